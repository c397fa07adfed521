package t3.reconciler.controller.loop;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import t3.reconciler.controller.http.WholeExchange;
import t3.reconciler.controller.log.Log;

/**
 * Webhook delivery off the controller's path: {@link #offer} queues and returns at once; one worker thread POSTs
 * each alert under a hard deadline on the whole exchange ({@link WholeExchange}), retries with a growing pause, and
 * logs what it could not deliver. The queue is bounded (the oldest alert is dropped, and logged, when full), so a
 * webhook that hangs or is gone never delays a step, a rollback above all, nor grows the heap.
 */
final class WebhookQueue implements AutoCloseable {
    /**
     * @param deadline the whole exchange, connect to the last body byte
     * @param attempts tries per alert
     * @param backoff  the pause after the first failed try, doubled after each further one
     * @param drain    how long {@link #close} waits for what is queued
     */
    record Settings(Duration deadline, int attempts, Duration backoff, int capacity, Duration drain) {
        static final Settings DEFAULT = new Settings(Duration.ofSeconds(10), 4, Duration.ofSeconds(2), 100, Duration.ofSeconds(15));
    }

    private record Alert(String name, String body) {}

    /** Alertmanager answers "success" or a short error; nothing longer is worth reading. */
    private static final int MAX_ANSWER = 4096;

    private final Log log;
    private final URI url;
    private final Settings settings;
    private final HttpClient http;
    private final Deque<Alert> queue = new ArrayDeque<>();
    private final Thread worker;
    private boolean closing;

    WebhookQueue(Log log, URI url, Settings settings) {
        this.log = log;
        this.url = url;
        this.settings = settings;
        this.http = HttpClient.newBuilder().connectTimeout(settings.deadline()).followRedirects(HttpClient.Redirect.NEVER).build();
        this.worker = new Thread(this::work, "t3r-alert-webhook");
        worker.setDaemon(true);
        worker.start();
    }

    void offer(String name, String body) {
        synchronized (this) {
            if (!closing) {
                Alert dropped = queue.size() >= settings.capacity() ? queue.pollFirst() : null;
                queue.addLast(new Alert(name, body));
                notifyAll();
                if (dropped == null) return;
                log.warn("alert-webhook", Log.kv("alert", dropped.name(), "reason", "queue full (" + settings.capacity() + "): dropped the oldest alert undelivered"));
                return;
            }
        }
        log.warn("alert-webhook", Log.kv("alert", name, "reason", "shutting down: not delivered"));
    }

    private void work() {
        try {
            for (Alert a; (a = next()) != null; ) deliver(a);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // close() ran out of time: what is left is logged there
        }
    }

    private synchronized Alert next() throws InterruptedException {
        while (queue.isEmpty() && !closing) wait();
        return queue.pollFirst();
    }

    private void deliver(Alert a) throws InterruptedException {
        String last = "";
        for (int attempt = 1; attempt <= settings.attempts(); attempt++) {
            try {
                HttpResponse<String> r = WholeExchange.send(http, HttpRequest.newBuilder(url).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(a.body())).build(), settings.deadline(), MAX_ANSWER);
                if (r.statusCode() / 100 == 2) return;
                last = "webhook refused the alert: " + r.statusCode() + " " + r.body();
            } catch (IOException | RuntimeException e) {
                // Never lets the worker die: it is the only one, and alerts after this one still need it.
                if (Thread.currentThread().isInterrupted()) throw new InterruptedException();
                last = "webhook unreachable: " + e.getMessage();
            }
            if (attempt < settings.attempts()) {
                log.info("alert-webhook", Log.kv("alert", a.name(), "attempt", attempt, "reason", last + "; trying again"));
                pause(settings.backoff().multipliedBy(1L << Math.min(attempt - 1, 16)));
            }
        }
        log.warn("alert-webhook", Log.kv("alert", a.name(), "attempts", settings.attempts(), "reason", "gave up: " + last));
    }

    /** Between tries; cut short by {@link #close}, which wants the rest tried while it waits, not slept through. */
    private synchronized void pause(Duration d) throws InterruptedException {
        long end = System.nanoTime() + d.toNanos();
        for (long left; !closing && (left = end - System.nanoTime()) > 0; ) wait(Math.max(1, left / 1_000_000));
    }

    /** Stops taking alerts, gives the worker {@code drain} to deliver what is queued, then abandons the rest (logged). */
    @Override
    public void close() {
        synchronized (this) {
            closing = true;
            notifyAll();
        }
        try {
            worker.join(settings.drain().toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!worker.isAlive()) return;
        worker.interrupt();
        int left;
        synchronized (this) {
            left = queue.size();
            queue.clear();
        }
        log.warn("alert-webhook", Log.kv("reason", "shutdown: gave up on the alert being delivered and " + left + " queued after " + settings.drain()));
    }
}
