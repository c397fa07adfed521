package t3.reconciler.controller.loop;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/** The real timer: one daemon thread, one pending wake-up at a time. */
public final class ScheduledResyncTimer implements ResyncTimer {
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "t3r-timer");
        t.setDaemon(true);
        return t;
    });
    private Triggers triggers;
    private ScheduledFuture<?> pending;

    @Override
    public synchronized void start(Triggers triggers) { this.triggers = triggers; }

    @Override
    public synchronized void arm(Duration wait, String reason) {
        if (pending != null) pending.cancel(false);
        Triggers t = triggers;
        pending = scheduler.schedule(() -> t.fire(reason), wait.toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public void close() { scheduler.shutdownNow(); }
}
