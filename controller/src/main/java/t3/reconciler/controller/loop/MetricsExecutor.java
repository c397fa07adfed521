package t3.reconciler.controller.loop;

import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where the metrics server runs its exchanges: at most a few at once, and a deadline on each exchange. The JDK server
 * reads a request's headers and writes its response with blocking calls on the pool's thread, so a client that sends
 * half a request, or never reads, holds that thread; at the deadline the thread is interrupted, which closes the
 * connection under the blocked read or write (the server's socket channel is interruptible) and frees the thread.
 */
final class MetricsExecutor implements Executor, AutoCloseable {
    /** How long a thread beyond the first waits for another exchange before it exits. */
    static final Duration SPARE_IDLE = Duration.ofSeconds(60);

    private final ThreadPoolExecutor pool;
    private final ScheduledExecutorService watchdog;
    private final Duration deadline;

    MetricsExecutor(int threads, Duration deadline) {
        AtomicInteger n = new AtomicInteger();
        this.pool = pool(threads, r -> daemon(r, "t3r-metrics-" + n.incrementAndGet()));
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "t3r-metrics-deadline"));
        this.deadline = deadline;
    }

    /**
     * Up to {@code threads} threads, made only while every one is busy: a fixed pool makes a new thread for each of its
     * first {@code threads} exchanges even when the last one is idle, so one scrape a minute left {@code threads} idle
     * threads behind. Here sequential scrapes share one thread; a slow client holding it makes a second, and so on up
     * to {@code threads}; past that, exchanges wait in the queue for a thread, as in a fixed pool. The first thread
     * stays (so a queued exchange always has one to run it), the others exit after {@link #SPARE_IDLE}.
     */
    static ThreadPoolExecutor pool(int threads, java.util.concurrent.ThreadFactory factory) {
        HandOff queue = new HandOff();
        return new ThreadPoolExecutor(1, threads, SPARE_IDLE.toMillis(), TimeUnit.MILLISECONDS, queue, factory, (exchange, p) -> {
            if (p.isShutdown()) throw new RejectedExecutionException("the metrics server is closed");
            queue.enqueue(exchange); // every thread busy and no more allowed: wait for one
        });
    }

    /**
     * The pool offers an exchange to its queue before it makes a thread; this queue takes it only when a thread is
     * waiting for work, so with none idle the pool makes one (up to its maximum) and with the maximum busy the pool's
     * rejection handler queues it with {@link #enqueue} (not {@code put} or {@code add}: some JDKs implement those
     * with {@code offer}).
     */
    private static final class HandOff extends LinkedTransferQueue<Runnable> {
        @Override
        public boolean offer(Runnable exchange) { return tryTransfer(exchange); }

        void enqueue(Runnable exchange) { super.offer(exchange); }
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

    /** The most threads it has had at once (tests). */
    int largestPoolSize() { return pool.getLargestPoolSize(); }

    /** Whether a thread is waiting for an exchange, so the next one runs on it (tests). */
    boolean threadWaiting() { return ((HandOff) pool.getQueue()).hasWaitingConsumer(); }

    @Override
    public void close() {
        watchdog.shutdownNow();
        pool.shutdownNow();
    }
}
