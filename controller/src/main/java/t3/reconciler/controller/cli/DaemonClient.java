package t3.reconciler.controller.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.DesiredState;

/** The running daemon as the CLI sees it: its pid file, SIGHUP, and the reconciles it records in the state store. */
final class DaemonClient {
    private static final long POLL_MS = 250;

    private DaemonClient() {}

    /** The daemon's pid if its pid file names a live process. */
    static Optional<Long> running(DesiredState s) {
        try {
            long pid = Long.parseLong(Files.readString(s.controller().pidFile()).strip());
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).map(p -> pid);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    static void hup(long pid) throws IOException {
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(pid)).inheritIO().start();
        try {
            if (kill.waitFor() != 0) throw new CliException(Main.FAILED, "kill -HUP " + pid + " failed");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(Main.FAILED, "interrupted while signalling " + pid);
        }
    }

    /**
     * Waits until {@code done} holds or a pass that started at or after {@code sentAt} has ended: the daemon records
     * {@code last-reconcile-start} when a pass begins and {@code last-reconcile} ({@code <end> <outcome> ...}) when it
     * ends. Returns the last recorded reconcile; throws when the daemon dies or time runs out.
     */
    static String await(StateStore store, long pid, Instant sentAt, BooleanSupplier done, Duration timeout) {
        Instant deadline = Instant.now().plus(timeout);
        while (true) {
            if (done.getAsBoolean()) return store.get("last-reconcile").orElse("?");
            Optional<Instant> started = store.get("last-reconcile-start").map(Instant::parse);
            Optional<String> last = store.get("last-reconcile");
            Optional<Instant> ended = last.map(l -> Instant.parse(l.split(" ", 2)[0]));
            if (started.isPresent() && !started.get().isBefore(sentAt) && ended.isPresent() && !ended.get().isBefore(started.get())) return last.get();
            if (ProcessHandle.of(pid).filter(ProcessHandle::isAlive).isEmpty()) throw new CliException(Main.FAILED, "the daemon (pid " + pid + ") exited while we waited");
            if (Instant.now().isAfter(deadline)) throw new CliException(Main.FAILED, "gave up waiting after " + timeout + "; the daemon is still working: see 't3-reconciler status'");
            try {
                Thread.sleep(POLL_MS); // polling a real condition (the store), bounded by the deadline
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CliException(Main.FAILED, "interrupted");
            }
        }
    }
}
