package t3.reconciler.controller.actuator.systemd;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;

import org.freedesktop.dbus.interfaces.DBusSigHandler;

/**
 * Collects {@code JobRemoved} results of one connection so that a caller can wait for its own job. It is
 * registered before any job is issued and records every result while a caller is between {@link #expect} and
 * {@link #release}, because the signal may be dispatched before that caller has seen the reply naming its job.
 */
final class JobTracker implements DBusSigHandler<SystemdManager.JobRemoved> {
    /** How often a waiter wakes up to notice a dropped bus, which sends no signal. */
    private static final long POLL_MILLIS = 200;

    /** Kept until no caller is left, not per path: systemd hands one job to callers whose requests it merged. */
    private final Map<String, String> results = new HashMap<>();
    private int callers;

    @Override
    public synchronized void handle(SystemdManager.JobRemoved signal) {
        if (callers > 0 && SystemdManager.OBJECT_PATH.equals(signal.getPath())) {
            results.put(signal.job().getPath(), signal.result());
            notifyAll();
        }
    }

    /** Call before issuing a job; pair with {@link #release}. */
    synchronized void expect() { callers++; }

    synchronized void release() {
        if (--callers == 0) results.clear();
    }

    /** The job's result, or empty if the deadline passed or {@code alive} turned false first. */
    synchronized Optional<String> await(String jobPath, Instant deadline, BooleanSupplier alive) throws InterruptedException {
        while (!results.containsKey(jobPath)) {
            long left = Duration.between(Instant.now(), deadline).toMillis();
            if (left <= 0 || !alive.getAsBoolean()) return Optional.empty();
            wait(Math.min(left, POLL_MILLIS));
        }
        return Optional.of(results.get(jobPath));
    }
}
