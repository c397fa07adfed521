package t3.reconciler.controller.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** The metrics server's threads: one for scrapes that come one at a time, more only while the ones there are busy. */
class MetricsExecutorTest {
    @Test
    void scrapesOneAfterAnotherShareOneThread() throws Exception {
        try (MetricsExecutor ex = new MetricsExecutor(MetricsServer.THREADS, Duration.ofSeconds(10))) {
            List<String> ranOn = new CopyOnWriteArrayList<>();
            for (int i = 0; i < 6; i++) {
                CountDownLatch done = new CountDownLatch(1);
                ex.execute(() -> {
                    ranOn.add(Thread.currentThread().getName());
                    done.countDown();
                });
                done.await();
                // The exchange is over; its thread is back waiting for the next one (the state a scrape a minute finds).
                while (!ex.threadWaiting()) Thread.onSpinWait();
            }
            assertEquals(Set.of("t3r-metrics-1"), Set.copyOf(ranOn), "a fixed pool ran these on " + ranOn);
            assertEquals(1, ex.largestPoolSize());
        }
    }

    @Test
    void busyThreadsBringMoreUpToTheLimitThenExchangesWait() throws Exception {
        int limit = MetricsServer.THREADS;
        try (MetricsExecutor ex = new MetricsExecutor(limit, Duration.ofSeconds(10))) {
            CountDownLatch held = new CountDownLatch(limit), release = new CountDownLatch(1), extra = new CountDownLatch(1);
            Set<String> threads = ConcurrentHashMap.newKeySet();
            for (int i = 0; i < limit; i++) {
                ex.execute(() -> {
                    threads.add(Thread.currentThread().getName());
                    held.countDown();
                    try {
                        release.await(); // a slow client holding its thread
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
            held.await();
            assertEquals(limit, threads.size(), "each held exchange on its own thread: " + threads);
            ex.execute(extra::countDown);
            assertEquals(1, extra.getCount(), "the exchange past the limit waits for a thread");
            release.countDown();
            extra.await();
            assertEquals(limit, ex.largestPoolSize(), "never more threads than the limit");
        }
    }
}
