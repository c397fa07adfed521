package t3.reconciler.controller.bench;

final class BumpBench {
    static void run() throws Exception { throw new UnsupportedOperationException("not yet"); }
}
