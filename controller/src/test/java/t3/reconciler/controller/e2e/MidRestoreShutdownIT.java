package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static t3.reconciler.controller.e2e.DaemonProcess.ev;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import t3.reconciler.controller.actuator.backup.SqliteBackups;
import t3.reconciler.controller.actuator.systemd.DbusUnits;
import t3.reconciler.controller.store.Event;
import t3.reconciler.controller.store.StateStore;

/**
 * Issue 4.4, the harder case: SIGTERM while a rollback's restore is in flight (the first user's unit stopped, its
 * database being replaced; the second user's server down since the failed canary). The daemon finishes the rollback
 * before it exits 0 (a rollback is never left half way: the second user would stay down until the next start): no
 * unit left stopped, no database half-restored. Started again, it holds at the breaker and restores nothing twice.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MidRestoreShutdownIT {
    static final String[] USERS = {"t3l-r1", "t3l-r2"};
    static final String V0 = "0.0.25-nightly.20260601.1";
    /** Migrates r1 fine, fails on r2's archived thread: the canary fails on r2 and both are restored. */
    static final String BAD = "0.0.25-nightly.20260608.7";
    static final Duration PASS = Duration.ofSeconds(180);
    static Bed bed;
    static DaemonProcess daemon;
    static String inFlight;

    @BeforeAll
    static void up() throws Exception {
        bed = Bed.fresh(USERS);
        bed.archiveThread(USERS[1]);
        bed.publish(BAD, "migration-fails-archived", "nightly");
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
    void sigtermDuringARestoreFinishesTheRollbackFirst() throws Exception {
        daemon = DaemonProcess.start(bed.spec, Map.of());
        inFlight = StateWatch.awaitJournal(bed, daemon, "restore");
        int mark = daemon.mark();
        long sent = System.nanoTime();
        daemon.signal("TERM");
        assertTrue(daemon.process.waitFor(5, TimeUnit.MINUTES), "stops within the unit's stop timeout\n" + daemon.tail());
        System.out.printf("SIGTERM during the restore of %s: exited after %d ms%n", inFlight, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent));
        daemon.drained();
        assertEquals(0, daemon.process.exitValue(), daemon.tail());
        daemon.await(mark, ev("stop-deferred"), Duration.ofSeconds(5), "the daemon says it finishes the rollback before stopping");
        daemon.await(mark, ev("step").and(n -> n.path("action").asText().equals("finish-rollback") && n.path("outcome").asText().equals("ok")),
                Duration.ofSeconds(5), "the rollback was finished before the exit");

        try (DbusUnits units = new DbusUnits(bed.bus(), Duration.ofSeconds(2))) {
            for (String u : USERS) assertTrue(units.status("t3-serve@" + u + ".service").active(), u + "'s server is up, the one the failed canary left down too");
        }
        try (StateStore store = StateStore.open(bed.stateDb())) {
            assertTrue(store.journal().isEmpty(), "no restore left half done: " + store.journal());
            assertTrue(store.rollout().isEmpty(), "the rollback is closed");
            List<Event> events = store.events(Optional.empty(), 500);
            for (String u : USERS) {
                assertTrue(events.stream().anyMatch(e -> e.action().equals("restore") && e.target().equals(u) && e.outcome().equals("ok")), u + " restored: " + events);
            }
        }
        for (String u : USERS) {
            assertEquals("ok", StateWatch.integrity(bed.database(u)), u + "'s database is intact");
            assertEquals(migrations(preBumpBackup(u)), migrations(bed.database(u)), u + "'s database is the whole pre-bump one");
        }
    }

    @Test
    @Order(2)
    void startedAgainTheDaemonHoldsAndRestoresNothingTwice() throws Exception {
        daemon = DaemonProcess.start(bed.spec, Map.of());
        JsonNode done = daemon.await(0, ev("reconciled"), PASS, "the first pass ends");
        assertEquals("held", done.path("outcome").asText(), "held by the open breaker: " + done);
        assertEquals(bed.dir.resolve("versions/" + V0 + "/bin/t3"), Files.readSymbolicLink(bed.link()));
        try (StateStore store = StateStore.open(bed.stateDb())) {
            List<Event> events = store.events(Optional.empty(), 500);
            for (String u : USERS) {
                assertEquals(1, events.stream().filter(e -> e.action().equals("restore") && e.target().equals(u)).count(), u + " restored exactly once: " + events);
            }
        }
        try (DbusUnits units = new DbusUnits(bed.bus(), Duration.ofSeconds(2))) {
            for (String u : USERS) assertTrue(units.status("t3-serve@" + u + ".service").active(), u + "'s server is up");
        }
    }

    static Path preBumpBackup(String user) throws Exception {
        return new SqliteBackups(bed.dir.resolve("backups")).list(user).stream()
                .filter(b -> b.verified() && b.version().toString().equals(V0)).findFirst().orElseThrow().path();
    }

    static Set<String> migrations(Path db) throws Exception {
        Set<String> out = new TreeSet<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + db + "?mode=ro");
             ResultSet r = c.createStatement().executeQuery("SELECT migration_id FROM effect_sql_migrations")) {
            while (r.next()) out.add(r.getString(1));
        }
        return out;
    }
}
