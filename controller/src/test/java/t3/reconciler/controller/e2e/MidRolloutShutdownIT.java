package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static t3.reconciler.controller.e2e.DaemonProcess.ev;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import t3.reconciler.controller.actuator.systemd.DbusUnits;
import t3.reconciler.controller.store.Event;
import t3.reconciler.controller.store.StateStore;

/**
 * Issue 4.4: SIGTERM while a canary restart is in flight (its journal entry is open) stops the daemon at the next step
 * boundary: exit 0 within the unit's stop timeout (TimeoutStopSec=5min in packaging/), no unit left down, no step
 * left in flight, every database intact. Started again, the daemon finishes the bump.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MidRolloutShutdownIT {
    static final String[] USERS = {"t3l-s1", "t3l-s2", "t3l-s3"};
    static final String V1 = "0.0.25-nightly.20260605.2";
    static final Duration STOP_TIMEOUT = Duration.ofMinutes(5);
    static final Duration PASS = Duration.ofSeconds(180);
    static Bed bed;
    static DaemonProcess daemon;
    static String inFlight;

    @BeforeAll
    static void up() throws Exception {
        bed = Bed.fresh(USERS);
        bed.publish(V1, "good", "nightly");
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
    void sigtermDuringACanaryRestartLeavesNoUnitDown() throws Exception {
        daemon = DaemonProcess.start(bed.spec, Map.of());
        inFlight = StateWatch.awaitJournal(bed, daemon, "canary");
        long sent = System.nanoTime();
        daemon.signal("TERM");
        assertTrue(daemon.process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS), "stops within the unit's stop timeout\n" + daemon.tail());
        System.out.printf("SIGTERM during the canary of %s: exited after %d ms%n", inFlight, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent));
        daemon.drained();
        assertEquals(0, daemon.process.exitValue(), daemon.tail());
        JsonNode last = daemon.await(0, ev("reconciled"), Duration.ofSeconds(5), "the pass reports how it ended");
        assertEquals("interrupted", last.path("outcome").asText(), "stopped at a step boundary: " + last);

        try (DbusUnits units = new DbusUnits(bed.bus(), Duration.ofSeconds(2))) {
            for (String u : USERS) assertTrue(units.status("t3-serve@" + u + ".service").active(), u + "'s server is up");
        }
        try (StateStore store = StateStore.open(bed.stateDb())) {
            assertTrue(store.journal().isEmpty(), "no step left in flight: " + store.journal());
            assertTrue(store.rollout().isPresent(), "the bump is paused, not abandoned");
            List<Event> events = store.events(Optional.empty(), 500);
            assertTrue(events.stream().anyMatch(e -> e.action().equals("canary") && e.target().equals(inFlight + "@" + V1) && e.outcome().equals("ok")),
                    "the canary in flight finished (restarted and paired): " + events);
            assertTrue(events.stream().noneMatch(e -> e.action().equals("restore")), "nothing was restored");
        }
        for (String u : USERS) assertEquals("ok", StateWatch.integrity(bed.database(u)), u + "'s database is intact");
    }

    @Test
    @Order(2)
    void startedAgainTheDaemonFinishesTheBump() throws Exception {
        daemon = DaemonProcess.start(bed.spec, Map.of());
        daemon.await(0, ev("step").and(n -> n.path("action").asText().equals("promote") && n.path("target").asText().equals(V1) && n.path("outcome").asText().equals("ok")),
                PASS, "the bump is finished and promoted");
        JsonNode done = daemon.await(0, ev("reconciled"), PASS, "the first pass ends");
        assertEquals("converged", done.path("outcome").asText(), done.toString());
        assertEquals(bed.dir.resolve("versions/" + V1 + "/bin/t3"), Files.readSymbolicLink(bed.link()));
        try (StateStore store = StateStore.open(bed.stateDb())) {
            List<Event> events = store.events(Optional.empty(), 500);
            for (String u : USERS) {
                assertEquals(1, events.stream().filter(e -> e.action().equals("canary") && e.target().equals(u + "@" + V1)).count(),
                        u + " restarted onto " + V1 + " exactly once: " + events);
            }
        }
        try (DbusUnits units = new DbusUnits(bed.bus(), Duration.ofSeconds(2))) {
            for (String u : USERS) assertTrue(units.status("t3-serve@" + u + ".service").active(), u + "'s server is up");
        }
    }
}
