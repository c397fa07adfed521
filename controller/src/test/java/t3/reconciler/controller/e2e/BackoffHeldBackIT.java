package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static t3.reconciler.controller.e2e.DaemonProcess.ev;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import t3.reconciler.controller.store.Event;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.BreakerState;
import t3.reconciler.model.Version;

/**
 * The {@code backoff} breaker policy (issue 4.3) and the held-back metric (issue 8.6) on the real bed, with the daemon
 * as a subprocess: a broken build opens the breaker; until the wait is over the breaker holds; after it the breaker
 * half-opens but the blocked build is never retried; a newer good build is then let through and promoted. Throughout,
 * {@code t3r_held_back_since_timestamp_seconds} carries the gate that holds us (reason label) and keeps its timestamp
 * across passes; it clears once converged.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BackoffHeldBackIT {
    static final String USER = "t3l-bo";
    static final String BROKEN = "0.0.26-nightly.20260609.3";
    static final String GOOD = "0.0.26-nightly.20260610.4";
    static final Duration WAIT = Duration.ofSeconds(12);
    static final Duration PASS = Duration.ofSeconds(180);
    static final Pattern HELD_BACK = Pattern.compile("(?m)^t3r_held_back_since_timestamp_seconds\\{reason=\"([^\"]+)\"} (\\S+)$");
    static Bed bed;
    static DaemonProcess daemon;
    static double since;

    @BeforeAll
    static void up() throws Exception {
        bed = Bed.fresh(USER);
        String spec = Files.readString(bed.spec);
        assertTrue(spec.contains("breaker: {policy: freeze}"), spec);
        // heldBackAfter 1s: the controller's own held-back alert (log/webhook) fires within the test.
        Files.writeString(bed.spec, spec.replace("breaker: {policy: freeze}", "breaker: {policy: backoff, initialWait: " + WAIT.toSeconds() + "s, maxWait: 1h}\nalerts: {heldBackAfter: 1s}"));
    }

    @AfterAll
    static void down() throws Exception {
        try {
            if (daemon != null) daemon.close();
        } finally {
            if (bed != null) bed.close();
        }
    }

    @Test
    @Order(1)
    void convergedTheHeldBackMetricIsZero() throws Exception {
        daemon = DaemonProcess.start(bed.spec, Map.of());
        JsonNode done = daemon.await(0, ev("reconciled"), PASS, "the first pass ends");
        assertEquals("converged", done.path("outcome").asText(), done.toString());
        assertEquals(Map.entry("none", 0.0), heldBack());
    }

    @Test
    @Order(2)
    void aBrokenBuildOpensTheBreakerAndTheMetricNamesIt() throws Exception {
        bed.publish(BROKEN, "migration-fails-populated", "nightly");
        int mark = daemon.mark();
        daemon.signal("HUP");
        daemon.await(mark, ev("step").and(n -> n.path("action").asText().equals("health-check") && n.path("outcome").asText().equals("failed")), PASS,
                "the broken build fails its health check");
        JsonNode done = daemon.await(mark, ev("reconciled"), PASS, "the pass ends");
        assertEquals("held", done.path("outcome").asText(), done.toString());
        assertTrue(done.path("reason").asText().contains("backoff policy half-opens at"), "held by the breaker until the wait is over: " + done);

        var held = heldBack();
        assertEquals("breaker", held.getKey(), "the reason label names the gate");
        since = held.getValue();
        assertTrue(since > 0 && since <= Instant.now().getEpochSecond(), "held back since a moment in the past: " + since);
        assertTrue(DaemonProcess.scrape(bed.spec).contains("t3r_breaker_open 1.0"), "breaker open");
    }

    @Test
    @Order(3)
    void theMetricStaysSetAcrossPassesAndARestartAndTheControllerAlerts() throws Exception {
        int mark = daemon.mark();
        daemon.signal("HUP");
        int at = daemon.awaitIndex(mark, ev("reconcile").and(n -> n.path("trigger").asText().contains("SIGHUP")), PASS, "a SIGHUP pass");
        JsonNode done = daemon.await(at, ev("reconciled"), PASS, "the SIGHUP pass ends");
        assertEquals("held", done.path("outcome").asText(), done.toString());
        var held = heldBack();
        assertTrue(List.of("breaker", "blocked").contains(held.getKey()), "a failing gate: " + held);
        assertEquals(since, held.getValue(), "the timestamp does not move while we stay behind");
        JsonNode alert = daemon.await(0, ev("alert").and(n -> n.path("alert").asText().equals("T3HeldBack")), PASS, "the controller's own held-back alert (heldBackAfter 1s)");
        String labels = alert.path("labels").asText();
        assertTrue(labels.contains("reason=breaker") || labels.contains("reason=blocked"), "the alert names the gate: " + alert);

        // A restarted controller does not restart the clock (one restarted daily would never alert).
        daemon.signal("TERM");
        assertTrue(daemon.process.waitFor(60, TimeUnit.SECONDS), daemon.tail());
        daemon.drained();
        daemon = DaemonProcess.start(bed.spec, Map.of());
        daemon.await(0, ev("reconciled"), PASS, "the restarted daemon's first pass ends");
        assertEquals(since, heldBack().getValue(), "held back since the same moment after a restart");
    }

    @Test
    @Order(4)
    void afterTheWaitTheBreakerHalfOpensButNeverRetriesTheBlockedBuild() throws Exception {
        // No trigger from here: the hold's recheck brings the pass at the half-open time.
        int at = daemon.awaitIndex(0, ev("decision").and(n -> n.path("gate").asText().equals("blocked")), PASS, "a pass after the wait holds at the blocked build");
        JsonNode blocked = daemon.since(at).get(0);
        assertTrue(blocked.path("reason").asText().contains(BROKEN), blocked.toString());
        daemon.await(at, ev("reconciled"), PASS, "that pass ends");
        assertEquals(Map.entry("blocked", since), heldBack(), "still held back since the same moment, now by the blocked gate");
        try (StateStore store = StateStore.open(bed.stateDb())) {
            BreakerState b = store.breaker();
            Instant halfOpen = b.openedAt().orElseThrow().plus(WAIT);
            Event hold = store.events(Optional.empty(), 500).stream().filter(e -> e.action().equals("hold:blocked")).findFirst().orElseThrow();
            assertTrue(!hold.at().isBefore(halfOpen), "the blocked hold comes from a pass after the breaker half-opened at " + halfOpen + ": " + hold);
        }
    }

    @Test
    @Order(5)
    void aNewerGoodBuildIsLetThroughAndPromotedAndTheMetricClears() throws Exception {
        bed.publish(GOOD, "good", "nightly");
        int mark = daemon.mark();
        daemon.signal("HUP");
        daemon.await(mark, ev("step").and(n -> n.path("action").asText().equals("promote") && n.path("target").asText().equals(GOOD) && n.path("outcome").asText().equals("ok")),
                PASS, "the newer build is promoted");
        JsonNode done = daemon.await(mark, ev("reconciled").and(n -> n.path("outcome").asText().equals("converged")), PASS, "the pass converges");
        assertEquals(bed.dir.resolve("versions/" + GOOD + "/bin/t3"), Files.readSymbolicLink(bed.link()), done.toString());
        assertEquals(Map.entry("none", 0.0), heldBack(), "converged: the held-back metric clears");
        assertTrue(DaemonProcess.scrape(bed.spec).contains("t3r_breaker_open 0.0"), "the promotion closed the breaker");
        try (StateStore store = StateStore.open(bed.stateDb())) {
            List<Event> events = store.events(Optional.empty(), 1000);
            assertEquals(1, events.stream().filter(e -> e.action().equals("install") && e.target().equals(BROKEN)).count(), "the blocked build was installed once, never again: " + events);
            assertEquals(1, events.stream().filter(e -> e.action().equals("health-check") && e.target().equals(BROKEN)).count(), "and health-checked once");
            assertTrue(store.blocked().contains(Version.parse(BROKEN)), "it stays blocked");
            assertEquals(Optional.of(Version.parse(GOOD)), store.lastGood());
        }
    }

    /** The one held-back series: its reason label and value. */
    static Map.Entry<String, Double> heldBack() throws Exception {
        String body = DaemonProcess.scrape(bed.spec);
        Matcher m = HELD_BACK.matcher(body);
        assertTrue(m.find(), "t3r_held_back_since_timestamp_seconds is exported:\n" + body);
        var e = Map.entry(m.group(1), Double.parseDouble(m.group(2)));
        assertTrue(!m.find(), "exactly one series:\n" + body);
        return e;
    }
}
