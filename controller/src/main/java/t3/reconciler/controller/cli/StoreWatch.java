package t3.reconciler.controller.cli;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import t3.reconciler.controller.store.StateStore;

/**
 * Calls {@code onChange} once at the start and again whenever another process commits to the store (SQLite's
 * data_version), looked at every {@code poll}: how {@code status --watch} and {@code events --follow} follow the
 * controller without a daemon protocol.
 */
final class StoreWatch {
    /** Checked between looks; a real run stops on Ctrl-C (the JVM exits), tests stop it. */
    interface Change {
        void run() throws Exception;
    }

    private StoreWatch() {}

    static void follow(StateStore store, Duration poll, BooleanSupplier stopped, Change onChange) throws Exception {
        long seen = store.dataVersion();
        onChange.run();
        while (!stopped.getAsBoolean()) {
            Thread.sleep(poll.toMillis());
            long now = store.dataVersion();
            if (now != seen) {
                seen = now;
                onChange.run();
            }
        }
    }
}
