package t3.reconciler.controller.loop;

import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where the metrics server runs its exchanges: a small fixed pool, and a deadline on each exchange. The JDK server
 * reads a request's headers and writes its response with blocking calls on the pool's thread, so a client that sends
 * half a request, or never reads, holds that thread; at the deadline the thread is interrupted, which closes the
 * connection under the blocked read or write (the server's socket channel is interruptible) and frees the thread.
 */
final class MetricsExecutor implements Executor, AutoCloseable {
    private final ExecutorService pool;
    private final ScheduledExecutorService watchdog;
    private final Duration deadline;

    MetricsExecutor(int threads, Duration deadline) {
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(threads, r -> daemon(r, "t3r-metrics-" + n.incrementAndGet()));
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "t3r-metrics-deadline"));
        this.deadline = deadline;
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    @Override
    public void execute(Runnable exchange) {
        pool.execute(() -> {
            Thread self = Thread.currentThread();
            Object lock = new Object();
            boolean[] done = {false};
            ScheduledFuture<?> stop = watchdog.schedule(() -> {
                synchronized (lock) {
                    if (!done[0]) self.interrupt(); // this exchange's thread, and only while it still runs this exchange
                }
            }, deadline.toMillis(), TimeUnit.MILLISECONDS);
            try {
                exchange.run();
            } finally {
                synchronized (lock) {
                    done[0] = true;
                }
                stop.cancel(false);
                Thread.interrupted(); // a late interrupt must not close the next exchange's connection
            }
        });
    }

    @Override
    public void close() {
        watchdog.shutdownNow();
        pool.shutdownNow();
    }
}
