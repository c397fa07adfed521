package t3.reconciler.controller.bench;

final class NoopBench {
    static void run() throws Exception { throw new UnsupportedOperationException("not yet"); }
}
