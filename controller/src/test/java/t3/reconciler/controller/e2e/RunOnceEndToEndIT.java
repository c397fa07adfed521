package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import t3.reconciler.controller.actuator.systemd.DbusUnits;
import t3.reconciler.controller.cli.Main;
import t3.reconciler.controller.store.Event;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.BreakerState;
import t3.reconciler.model.Version;

/**
 * Issue 3's acceptance, on real parts: {@code run --once} performs a full good bump for three users, then a build
 * whose migration fails on real data is caught by the health check, nobody is restarted, and the breaker opens.
 */
class RunOnceEndToEndIT {
    static final String[] USERS = {"t3e-alice", "t3e-bob", "t3e-carol"};
    static final Version V0 = Version.parse("0.0.25-nightly.20260601.1");
    static final Version V1 = Version.parse("0.0.25-nightly.20260608.2");
    static final Version V2 = Version.parse("0.0.26-nightly.20260609.3");
    static Bed bed;

    @BeforeAll
    static void up() throws Exception {
        bed = Bed.fresh(USERS);
    }

    @AfterAll
    static void down() throws Exception {
        if (bed != null) bed.close();
    }

    @Test
    void goodBumpReachesEveryoneThenBrokenBuildIsCaughtAndBlocked() throws Exception {
        Map<String, Long> pidsBefore = mainPids();
        bed.publish(V1.toString(), "good", "nightly");

        assertEquals(Main.OK, Main.run("run", "--once", "-f", bed.spec.toString()), "a good bump converges");

        assertEquals(bed.dir.resolve("versions/" + V1 + "/bin/t3"), Files.readSymbolicLink(bed.link()));
        Map<String, Long> pidsAfterGood = mainPids();
        try (StateStore store = StateStore.open(bed.stateDb())) {
            assertEquals(Optional.of(V1), store.lastGood());
            List<Event> events = store.events(Optional.empty(), 500);
            for (String u : USERS) {
                assertTrue(pidsAfterGood.get(u) != 0 && !pidsAfterGood.get(u).equals(pidsBefore.get(u)), u + " was restarted");
                assertTrue(events.stream().anyMatch(e -> e.action().equals("canary") && e.target().startsWith(u + "@") && e.outcome().equals("ok")), u + " canary ok");
                assertPreBumpBackupOfItsOwn(u, events);
            }
            assertTrue(events.stream().anyMatch(e -> e.action().equals("health-check") && e.outcome().equals("ok")));
        }

        bed.publish(V2.toString(), "migration-fails-populated", "nightly");
        assertEquals(Main.REFUSED, Main.run("run", "--once", "-f", bed.spec.toString()), "the pass ends held by the open breaker");

        assertEquals(bed.dir.resolve("versions/" + V1 + "/bin/t3"), Files.readSymbolicLink(bed.link()), "the link never moved");
        assertEquals(pidsAfterGood, mainPids(), "nobody was restarted onto a build that failed its health check");
        assertTrue(Files.exists(bed.freezeFile()), "self-freeze written");
        try (StateStore store = StateStore.open(bed.stateDb())) {
            assertEquals(Optional.of(V1), store.lastGood());
            BreakerState b = store.breaker();
            assertEquals(BreakerState.Status.OPEN, b.status());
            assertEquals(Optional.of(V2), b.version());
            assertTrue(store.blocked().contains(V2));
            List<Event> events = store.events(Optional.empty(), 500);
            assertTrue(events.stream().anyMatch(e -> e.action().equals("health-check") && e.target().equals(V2.toString()) && e.outcome().equals("failed")));
            assertTrue(events.stream().anyMatch(e -> e.action().equals("finish-rollback") && e.outcome().equals("ok")));
            assertFalse(store.rollout().isPresent(), "the failed rollout is closed");
        }

        assertEquals(Main.REFUSED, Main.run("run", "--once", "-f", bed.spec.toString()), "the blocked build is never retried");
        assertEquals(pidsAfterGood, mainPids());
    }

    /**
     * The same pass took the day's backup first: a pre-bump check that any backup on V0 satisfies would pass without
     * one. So: the rollout of V1 recorded a backup of its own for the user, a different file from the daily one, taken
     * on V0 after the rollout started, verified, and the step that took it said it was the pre-bump backup.
     */
    private static void assertPreBumpBackupOfItsOwn(String u, List<Event> events) throws Exception {
        Instant started;
        Path pre;
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + bed.stateDb() + "?mode=ro");
             PreparedStatement q = c.prepareStatement("SELECT r.started_at, u.backup FROM rollout r JOIN rollout_user u ON u.rollout_id = r.id WHERE r.target = ? AND u.user = ?")) {
            q.setString(1, V1.toString());
            q.setString(2, u);
            try (ResultSet r = q.executeQuery()) {
                assertTrue(r.next(), "the rollout of " + V1 + " has a row for " + u);
                started = Instant.parse(r.getString(1));
                assertNotNull(r.getString(2), "the rollout of " + V1 + " recorded a pre-bump backup of " + u);
                pre = Path.of(r.getString(2));
            }
        }
        Event daily = events.stream().filter(e -> e.action().equals("backup") && e.target().equals(u) && e.reason().startsWith("daily backup of " + u)).findFirst()
                .orElseThrow(() -> new AssertionError("the pass took " + u + "'s daily backup first"));
        Event preBump = events.stream().filter(e -> e.action().equals("backup") && e.target().equals(u) && e.reason().startsWith("pre-bump backup of " + u)).findFirst()
                .orElseThrow(() -> new AssertionError("a step took " + u + "'s pre-bump backup"));
        assertTrue(preBump.reason().contains(pre.toString()), "the pre-bump step took the file the rollout recorded: " + preBump.reason());
        assertFalse(daily.reason().contains(pre.toString()), "the pre-bump backup is not the daily one: " + daily.reason());
        BackupInfo b = new t3.reconciler.controller.actuator.backup.SqliteBackups(bed.dir.resolve("backups")).list(u).stream()
                .filter(x -> x.path().equals(pre)).findFirst().orElseThrow(() -> new AssertionError(pre + " is still there"));
        assertTrue(b.verified(), pre + " matches its sha256 sidecar");
        assertEquals(V0, b.version(), "taken on the version the users ran before the bump");
        assertFalse(b.takenAt().isBefore(started), pre + " was taken at " + b.takenAt() + ", before the rollout started at " + started);
    }

    private static Map<String, Long> mainPids() throws Exception {
        Map<String, Long> m = new HashMap<>();
        try (DbusUnits units = new DbusUnits(bed.bus(), Duration.ofSeconds(2))) {
            for (String u : USERS) m.put(u, units.status("t3-serve@" + u + ".service").mainPid());
        }
        return m;
    }
}
