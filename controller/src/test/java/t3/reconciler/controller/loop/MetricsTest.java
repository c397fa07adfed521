package t3.reconciler.controller.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.plan.Gate;
import t3.reconciler.controller.plan.PassOutcome;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.plan.Action;
import t3.reconciler.controller.plan.Decision;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.BreakerState;
import t3.reconciler.model.DesiredStateLoader;
import t3.reconciler.model.ObservedState;
import t3.reconciler.model.UserState;
import t3.reconciler.model.Version;

/** The series the alert rules read, as scraped: freeze by source, a user with no backup, the held-back reason. */
class MetricsTest {
    static final Version A = Version.parse("0.0.25-nightly.20260601.1");
    static final Version B = Version.parse("0.0.25-nightly.20260608.2");
    static final Instant NOW = Instant.parse("2026-06-08T04:00:00Z");

    @TempDir Path dir;

    Metrics metrics(String yaml) throws Exception { return metrics(yaml, HeldBack.inMemory()); }

    Metrics metrics(String yaml, HeldBack held) throws Exception {
        Path file = dir.resolve("desired-state.yaml");
        Files.writeString(file, yaml);
        return new Metrics(new SpecHolder(file, DesiredStateLoader.parse(yaml, file), Log.toStderr(Clock.systemUTC())), held);
    }

    /** What the daemon does with each observation and each pass's end. */
    static void observed(Metrics m, HeldBack held, ObservedState o) {
        held.observed(o);
        m.observed(o, true);
    }

    static void reconciled(Metrics m, HeldBack held, Reconciler.Result r, Instant at) {
        held.reconciled(r);
        m.reconciled(r, Duration.ZERO, at);
    }

    static UserState user(String name, boolean database, List<BackupInfo> backups) {
        return new UserState(name, "t3-serve@" + name + ".service", "active", 100, Optional.of(A), List.of(),
                Path.of("/home", name, ".t3/userdata/state.sqlite"), database, backups);
    }

    static ObservedState observed(Version candidate, Optional<String> freezeFile) {
        BackupInfo alices = new BackupInfo("alice", Path.of("/b/alice/x.sqlite"), A, NOW.minusSeconds(600), 4096, true);
        return new ObservedState(NOW, Optional.of(A), Set.of(A), Optional.of(A), ObservedState.Candidate.of(candidate),
                List.of(user("alice", true, List.of(alices)), user("bob", true, List.of()), user("carol", false, List.of())),
                freezeFile, BreakerState.closed(), Set.of(), Optional.empty(), false);
    }

    static Reconciler.Result held(Gate gate) {
        return new Reconciler.Result(PassOutcome.HELD, Optional.of(new Decision(Action.Hold.until(gate), "why")), Optional.empty(), 0, Optional.empty());
    }

    static double heldBack(Metrics m, String reason) {
        Matcher x = Pattern.compile("(?m)^t3r_held_back_since_timestamp_seconds\\{reason=\"" + reason + "\"} (\\S+)$").matcher(m.scrape());
        assertTrue(x.find(), m.scrape());
        return Double.parseDouble(x.group(1));
    }

    @Test
    void freezeIsExportedPerSource() throws Exception {
        Metrics m = metrics("users: [alice, bob, carol]\nfreeze: true\n");
        m.observed(observed(A, Optional.empty()), true);
        assertTrue(m.scrape().contains("t3r_frozen{source=\"spec\"} 1.0"), m.scrape());
        assertTrue(m.scrape().contains("t3r_frozen{source=\"file\"} 0.0"), m.scrape());

        m = metrics("users: [alice, bob, carol]\n");
        m.observed(observed(A, Optional.of("maintenance")), true);
        assertTrue(m.scrape().contains("t3r_frozen{source=\"spec\"} 0.0"), m.scrape());
        assertTrue(m.scrape().contains("t3r_frozen{source=\"file\"} 1.0"), m.scrape());
    }

    @Test
    void aUserWithDataAndNoBackupAtAllIsInfinitelyStale() throws Exception {
        Metrics m = metrics("users: [alice, bob, carol]\n");
        m.observed(observed(A, Optional.empty()), true);
        String s = m.scrape();
        assertTrue(s.contains("t3r_backup_newest_age_seconds{user=\"alice\"} 600.0"), s);
        assertTrue(s.contains("t3r_backup_newest_age_seconds{user=\"bob\"} +Inf"), s);
        assertFalse(s.contains("user=\"carol\"} +Inf"), "no database, nothing to back up: " + s);
    }

    @Test
    void theNewestBackupsSizeIsExportedForTheDashboard() throws Exception {
        Metrics m = metrics("users: [alice, bob, carol]\n");
        m.observed(observed(A, Optional.empty()), true);
        String s = m.scrape();
        assertTrue(s.contains("t3r_backup_newest_size_bytes{user=\"alice\"} 4096.0"), s);
        assertFalse(s.contains("t3r_backup_newest_size_bytes{user=\"bob\"}"), "bob has no backup, so no size: " + s);
    }

    @Test
    void heldBackNamesTheGateAndKeepsItsTimestamp() throws Exception {
        HeldBack held = HeldBack.inMemory();
        Metrics m = metrics("users: [alice, bob, carol]\n", held);
        observed(m, held, observed(A, Optional.empty()));
        reconciled(m, held, new Reconciler.Result(PassOutcome.CONVERGED, Optional.empty(), Optional.empty(), 0, Optional.empty()), NOW);
        assertTrue(m.scrape().contains("t3r_held_back_since_timestamp_seconds{reason=\"none\"} 0.0"), m.scrape());

        observed(m, held, observed(B, Optional.empty()));
        reconciled(m, held, held(Gate.WINDOW), NOW);
        assertEquals(NOW.getEpochSecond(), heldBack(m, "window"), m.scrape());

        reconciled(m, held, held(Gate.BREAKER), NOW.plusSeconds(3600));
        String s = m.scrape();
        assertEquals(NOW.getEpochSecond(), heldBack(m, "breaker"), "same timestamp, new gate: " + s);
        assertFalse(s.contains("reason=\"window\""), "one series: " + s);

        observed(m, held, observed(A, Optional.empty()));
        assertTrue(m.scrape().contains("t3r_held_back_since_timestamp_seconds{reason=\"none\"} 0.0"), m.scrape());
    }

    @Test
    void fleetSeriesExistOnlyWithAFleetAndReadTheFacts() throws Exception {
        Metrics alone = metrics("users: [alice, bob, carol]\n");
        alone.observed(observed(A, Optional.empty()), true);
        assertFalse(alone.scrape().contains("t3r_fleet_"), alone.scrape());

        Metrics m = metrics("users: [alice, bob, carol]\nfleet: {endpoints: ['http://127.0.0.1:2379'], hostId: h1}\n");
        var verdict = new t3.reconciler.model.fleet.Verdict(B.toString(), "h2", "canary", NOW);
        var facts = new t3.reconciler.model.fleet.FleetFacts(t3.reconciler.model.fleet.EtcdHealth.QUORUM, "", 9, "h1", 1,
                List.of(new t3.reconciler.model.fleet.SlotHolder("h1", NOW, 7)), true, false, java.util.Map.of(B.toString(), verdict),
                Optional.empty(), java.util.Map.of(), java.util.Map.of());
        m.observed(observed(A, Optional.empty()).withFleet(Optional.of(facts), java.util.Map.of()), true);
        String s = m.scrape();
        assertTrue(s.contains("t3r_fleet_slot_held 1.0"), s);
        assertTrue(s.contains("t3r_fleet_blocked_versions 1.0"), s);
        assertTrue(s.contains("t3r_fleet_etcd_reachable 1.0"), s);

        var down = t3.reconciler.model.fleet.FleetFacts.unknown(t3.reconciler.model.fleet.EtcdHealth.NO_QUORUM, "no leader", "h1", 1, false);
        m.observed(observed(A, Optional.empty()).withFleet(Optional.of(down), java.util.Map.of()), true);
        assertTrue(m.scrape().contains("t3r_fleet_etcd_reachable 0.0"), "reachable means a quorum: " + m.scrape());
    }

    @Test
    void heldBackSinceSurvivesARestart() throws Exception {
        try (StateStore store = StateStore.open(dir.resolve("state.db"))) {
            HeldBack first = HeldBack.persistedIn(store);
            first.observed(observed(B, Optional.empty()));
            first.reconciled(held(Gate.BREAKER));

            HeldBack restarted = HeldBack.persistedIn(store);
            assertEquals(Optional.of(NOW), restarted.current().map(HeldBack.Episode::since), "known before the first pass");
            Metrics m = metrics("users: [alice, bob, carol]\n", restarted);
            ObservedState later = observed(B, Optional.empty());
            observed(m, restarted, new ObservedState(NOW.plusSeconds(86400), later.installed(), later.present(), later.lastGood(), later.candidate(), later.users(),
                    later.freezeFile(), later.breaker(), later.blocked(), later.rollout(), false));
            assertEquals(NOW.getEpochSecond(), heldBack(m, "pending"), "the clock did not restart");

            restarted.observed(observed(A, Optional.empty()));
            assertEquals(Optional.empty(), HeldBack.persistedIn(store).current(), "following: nothing carried over");
        }
    }
}
