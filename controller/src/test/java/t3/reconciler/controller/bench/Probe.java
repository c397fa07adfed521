package t3.reconciler.controller.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * Per-user unavailability: one thread per user asks its server {@code GET /} every period (50 ms, the issue's
 * definition; 10 ms for the finer column: a bare restart's gap is ~150 ms, so at 50 ms one period is a third of it and
 * a ratio moves by where a sample lands) with a fresh connection each time (1 s timeout, so a dead keep-alive
 * connection cannot hide a restart) and keeps the times of the answers. A user's unavailability is the longest
 * stretch between two answers (or from the last answer to the end of the probe): at most one probe period more than
 * the real outage, the same for every side measured.
 */
final class Probe implements AutoCloseable {
    static final long PERIOD_NANOS = 50_000_000L;
    static final long FINE_PERIOD_NANOS = 10_000_000L;

    private final Map<String, Thread> threads = new LinkedHashMap<>();
    private final Map<String, List<Long>> answers = new LinkedHashMap<>();
    private final long start = System.nanoTime();
    /** The wall clock at {@link #start}: the controller's events carry wall-clock times. */
    private final java.time.Instant startWall = java.time.Instant.now();
    private final Map<String, java.util.concurrent.atomic.AtomicLong> tries = new LinkedHashMap<>();
    private final long period;
    private volatile boolean stop;
    private long end;

    /** @param ports user → the loopback port of the user's server */
    Probe(Map<String, Integer> ports) { this(ports, PERIOD_NANOS); }

    /** @param periodNanos time between the starts of two probes of one server */
    Probe(Map<String, Integer> ports, long periodNanos) {
        this.period = periodNanos;
        for (var e : ports.entrySet()) {
            List<Long> a = new ArrayList<>();
            answers.put(e.getKey(), a);
            java.util.concurrent.atomic.AtomicLong n = new java.util.concurrent.atomic.AtomicLong();
            tries.put(e.getKey(), n);
            Thread t = new Thread(() -> loop(e.getValue(), a, n), "probe-" + e.getKey());
            t.setDaemon(true);
            threads.put(e.getKey(), t);
        }
        threads.values().forEach(Thread::start);
    }

    private void loop(int port, List<Long> out, java.util.concurrent.atomic.AtomicLong n) {
        for (long next = System.nanoTime(); !stop; next += period) {
            boolean ok = answers(port);
            long now = System.nanoTime();
            if (ok) {
                synchronized (out) {
                    out.add(now);
                    out.notifyAll();
                }
            }
            // Counted once its answer is on record: a reader who sees the count sees the answer too.
            n.incrementAndGet();
            // The probe's cadence, not a wait for anything: it samples at fixed times whatever happens.
            long wait = next + period - System.nanoTime();
            if (wait > 0) LockSupport.parkNanos(wait);
            else next = System.nanoTime() - period;
        }
    }

    /** True when the server answered {@code GET /} with any HTTP status line within the timeout. */
    static boolean answers(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            s.setSoTimeout(1000);
            OutputStream o = s.getOutputStream();
            o.write(("GET / HTTP/1.0\r\nHost: 127.0.0.1:" + port + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            o.flush();
            InputStream in = s.getInputStream();
            byte[] b = new byte[12];
            int n = in.readNBytes(b, 0, b.length);
            return n == b.length && new String(b, StandardCharsets.US_ASCII).matches("HTTP/1\\.[01] 200");
        } catch (IOException e) {
            return false;
        }
    }

    /** Probes of USER's server so far, answered or not. */
    long tries(String user) { return tries.get(user).get(); }

    /** Returns once the probe has had an answer from USER's server later than {@code nanos}; fails after {@code limitMs}. */
    void awaitAnswerAfter(String user, long nanos, long limitMs) throws InterruptedException {
        List<Long> a = answers.get(user);
        long deadline = System.nanoTime() + limitMs * 1_000_000;
        synchronized (a) {
            while (a.isEmpty() || a.get(a.size() - 1) <= nanos) {
                long left = deadline - System.nanoTime();
                if (left <= 0) throw new IllegalStateException("probe: no answer from " + user + "'s server within " + limitMs + " ms");
                a.wait(Math.max(1, left / 1_000_000));
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop = true;
        for (Thread t : threads.values()) t.join();
        end = System.nanoTime();
    }

    /** Where USER's longest gap lay: {from, to} on the wall clock (after {@link #close()}). */
    java.time.Instant[] longestGapWindow(String user) {
        long prev = start, worst = -1, from = start, to = end;
        List<Long> ts = new ArrayList<>(answers.get(user));
        ts.add(end);
        for (long t : ts) {
            if (t - prev > worst) {
                worst = t - prev;
                from = prev;
                to = t;
            }
            prev = t;
        }
        return new java.time.Instant[] {startWall.plusNanos(from - start), startWall.plusNanos(to - start)};
    }

    /** {@code nanos} of this JVM's {@link System#nanoTime} on the wall clock. */
    java.time.Instant wall(long nanos) { return startWall.plusNanos(nanos - start); }

    /** Longest time without an answer, per user, in ms (after {@link #close()}). */
    Map<String, Double> longestGaps() {
        Map<String, Double> m = new LinkedHashMap<>();
        for (var e : answers.entrySet()) {
            long prev = start, worst = 0;
            for (long t : e.getValue()) {
                worst = Math.max(worst, t - prev);
                prev = t;
            }
            worst = Math.max(worst, end - prev);
            m.put(e.getKey(), worst / 1e6);
        }
        return m;
    }
}
