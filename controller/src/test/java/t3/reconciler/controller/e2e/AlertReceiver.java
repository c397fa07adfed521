package t3.reconciler.controller.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The receiver at the end of Alertmanager's webhook: an HTTP server on loopback that keeps every notification
 * ({@code {status, alerts: [{status, labels, annotations, startsAt, endsAt}], ...}}) and lets a test wait for one.
 */
final class AlertReceiver implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpServer server;
    private final List<JsonNode> notifications = new ArrayList<>();

    AlertReceiver() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.createContext("/hook", ex -> {
            JsonNode body;
            try (var in = ex.getRequestBody()) {
                body = JSON.readTree(in);
            }
            synchronized (this) {
                notifications.add(body);
                notifyAll();
            }
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        server.start();
    }

    URI url() { return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hook"); }

    /** Every alert of every notification so far, in arrival order (an alert is in a notification each time it is sent). */
    synchronized List<JsonNode> alerts() {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode n : notifications) n.path("alerts").forEach(out::add);
        return out;
    }

    synchronized List<JsonNode> notifications() { return List.copyOf(notifications); }

    /** Waits, at most {@code timeout}, for an alert matching {@code p}; fails naming what was waited for and what came. */
    synchronized JsonNode await(Predicate<JsonNode> p, Duration timeout, String what) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (JsonNode a : alerts()) if (p.test(a)) return a;
            long left = end - System.nanoTime();
            if (left <= 0) throw new AssertionError("no alert " + what + " within " + timeout + "; received:\n" + summary());
            wait(Math.max(1, left / 1_000_000));
        }
    }

    static Predicate<JsonNode> alert(String name, String status) {
        return a -> name.equals(a.path("labels").path("alertname").asText()) && status.equals(a.path("status").asText());
    }

    synchronized String summary() {
        StringBuilder b = new StringBuilder();
        for (JsonNode a : alerts()) b.append("  ").append(a.path("status").asText()).append(' ').append(a.path("labels")).append('\n');
        return b.toString();
    }

    @Override
    public void close() { server.stop(0); }
}
