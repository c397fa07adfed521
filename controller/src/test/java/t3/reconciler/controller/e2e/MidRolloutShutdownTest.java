package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static t3.reconciler.controller.e2e.DaemonProcess.ev;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
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
class MidRolloutShutdownTest {
    static final String[] USERS = {"t3l-s1", "t3l-s2", "t3l-s3"};
    static final String V1 = "0.0.25-nightly.20260605.2";
    static final Duration STOP_TIMEOUT = Duration.ofMinutes(5);
    static final Duration PASS = Duration.ofSeconds(180);
    static Bed bed;
    static DaemonProcess daemon;
    static String inFlight;

    @BeforeAll
    static void up() throws Exception {
        bed = Bed.up(Bed.repoRoot().resolve("controller/target/e2e-" + UUID.randomUUID().toString().substring(0, 8)), USERS);
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
        inFlight = awaitCanaryInFlight();
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
        for (String u : USERS) assertEquals("ok", integrity(bed.database(u)), u + "'s database is intact");
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

    /**
     * The user whose canary restart is in flight: the journal entry the executor writes before the restart. Looked
     * up at every change in the state directory (each write touches the database's WAL), not on a timer.
     */
    static String awaitCanaryInFlight() throws Exception {
        Path db = bed.stateDb();
        long deadline = System.nanoTime() + PASS.toNanos();
        try (WatchService ws = db.getFileSystem().newWatchService()) {
            db.getParent().register(ws, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
            while (System.nanoTime() < deadline) {
                if (!daemon.process.isAlive()) fail("the daemon exited\n" + daemon.tail());
                Optional<String> user = canaryJournal(db);
                if (user.isPresent()) return user.get();
                WatchKey key = ws.poll(1, TimeUnit.SECONDS);
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                }
            }
        }
        fail("no canary restart in flight within " + PASS.toSeconds() + " s\n" + daemon.tail());
        return null;
    }

    static Optional<String> canaryJournal(Path db) {
        if (!Files.exists(db)) return Optional.empty();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + db + "?mode=ro");
             ResultSet r = c.createStatement().executeQuery("SELECT target FROM journal WHERE action = 'canary'")) {
            return r.next() ? Optional.of(r.getString(1)) : Optional.empty();
        } catch (java.sql.SQLException e) {
            return Optional.empty(); // not created yet, or busy: the next change looks again
        }
    }

    static String integrity(Path db) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + db + "?mode=ro");
             ResultSet r = c.createStatement().executeQuery("PRAGMA integrity_check")) {
            r.next();
            return r.getString(1);
        }
    }
}
