package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
class RunOnceEndToEndTest {
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
                assertTrue(preBumpBackup(u).isPresent(), u + " has a verified backup on " + V0);
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

    private static Optional<BackupInfo> preBumpBackup(String user) throws Exception {
        return new t3.reconciler.controller.actuator.backup.SqliteBackups(bed.dir.resolve("backups")).list(user).stream()
                .filter(b -> b.verified() && b.version().equals(V0)).findFirst();
    }

    private static Map<String, Long> mainPids() throws Exception {
        Map<String, Long> m = new HashMap<>();
        try (DbusUnits units = new DbusUnits(bed.bus(), Duration.ofSeconds(2))) {
            for (String u : USERS) m.put(u, units.status("t3-serve@" + u + ".service").mainPid());
        }
        return m;
    }
}
