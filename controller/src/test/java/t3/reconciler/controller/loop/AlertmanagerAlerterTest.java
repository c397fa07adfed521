package t3.reconciler.controller.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import t3.reconciler.controller.log.Log;

/**
 * What AlertmanagerAlerter posts, read by a real HTTP server on loopback standing where Alertmanager would be (the
 * real Alertmanager's view is AlertmanagerAlerterIT's): the v2 path under a route prefix, the labels, an end an hour
 * on, and a resolve that repeats the start and ends now. Close drains the queue, so every post is in before asserting.
 */
class AlertmanagerAlerterTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Instant T0 = Instant.parse("2026-06-08T03:00:00Z");
    static final WebhookQueue.Settings FAST = new WebhookQueue.Settings(Duration.ofSeconds(5), 1, Duration.ofMillis(10), 10, Duration.ofSeconds(30));
    final Log log = new Log(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), Log.Format.JSON, Clock.systemUTC());
    final List<String> paths = new ArrayList<>();
    final List<JsonNode> posted = new ArrayList<>();
    HttpServer server;

    @AfterEach
    void stop() {
        if (server != null) server.stop(0);
    }

    URI alertmanager() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            synchronized (posted) {
                paths.add(ex.getRequestURI().getPath());
                posted.add(JSON.readTree(body));
            }
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        server.start();
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/am");
    }

    @Test
    void firesWithAnEndAnHourOnAndResolvesWithTheSameStartEndingNow() throws Exception {
        MutableClock clock = new MutableClock(T0);
        try (AlertmanagerAlerter a = new AlertmanagerAlerter(log, alertmanager(), clock, FAST)) {
            a.fire("T3BumpFailed", "critical", "0.0.26 failed", Map.of("version", "0.0.26"));
            clock.now = T0.plusSeconds(90);
            a.resolve("T3BumpFailed", "critical", Map.of("version", "0.0.26"));
            a.resolve("T3BumpFailed", "critical", Map.of("version", "0.0.27")); // never fired: nothing to end
        }
        assertEquals(List.of("/am/api/v2/alerts", "/am/api/v2/alerts"), paths);
        JsonNode fired = posted.get(0).get(0), resolved = posted.get(1).get(0);
        assertEquals(JSON.readTree("{\"alertname\":\"T3BumpFailed\",\"service\":\"t3-reconciler\",\"severity\":\"critical\",\"version\":\"0.0.26\"}"), fired.path("labels"));
        assertEquals("0.0.26 failed", fired.path("annotations").path("summary").asText());
        assertEquals(T0.toString(), fired.path("startsAt").asText());
        assertEquals(T0.plus(Duration.ofHours(1)).toString(), fired.path("endsAt").asText());
        assertEquals(fired.path("labels"), resolved.path("labels"), "the same alert, by its labels");
        assertEquals(T0.toString(), resolved.path("startsAt").asText());
        assertEquals(T0.plusSeconds(90).toString(), resolved.path("endsAt").asText());
    }

    @Test
    void anAlertOlderThanTheHourHasEndedAlreadyAndIsNotResolvedAgain() throws Exception {
        MutableClock clock = new MutableClock(T0);
        try (AlertmanagerAlerter a = new AlertmanagerAlerter(log, alertmanager(), clock, FAST)) {
            a.fire("T3RolledBack", "warning", "rolled back", Map.of("version", "0.0.26"));
            clock.now = T0.plus(Duration.ofHours(2));
            a.fire("T3RolledBack", "warning", "rolled back", Map.of("version", "0.0.27"));
            a.resolve("T3RolledBack", "warning", Map.of("version", "0.0.26"));
        }
        assertEquals(2, posted.size(), "two fired, no resolve for the one Alertmanager ended an hour ago: " + posted);
    }

    @Test
    void theApiPathKeepsARoutePrefixWithOrWithoutASlash() {
        assertEquals(URI.create("http://h:9093/api/v2/alerts"), AlertmanagerAlerter.apiOf(URI.create("http://h:9093")));
        assertEquals(URI.create("http://h:9093/api/v2/alerts"), AlertmanagerAlerter.apiOf(URI.create("http://h:9093/")));
        assertEquals(URI.create("http://h:9093/am/api/v2/alerts"), AlertmanagerAlerter.apiOf(URI.create("http://h:9093/am/")));
    }

    static final class MutableClock extends Clock {
        volatile Instant now;

        MutableClock(Instant now) { this.now = now; }

        @Override public ZoneOffset getZone() { return ZoneOffset.UTC; }

        @Override public Clock withZone(java.time.ZoneId zone) { return this; }

        @Override public Instant instant() { return now; }
    }
}
