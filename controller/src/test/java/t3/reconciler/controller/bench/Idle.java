package t3.reconciler.controller.bench;

/** The baseline JVM for RSS: prints "ready", then waits for stdin to close. */
public final class Idle {
    public static void main(String[] args) throws Exception {
        System.out.println("ready");
        System.out.flush();
        while (System.in.read() >= 0) {
            // nothing: we only exist to be measured
        }
    }
}
