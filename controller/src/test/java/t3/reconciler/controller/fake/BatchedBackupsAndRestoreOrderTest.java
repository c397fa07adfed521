package t3.reconciler.controller.fake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.crash.CrashPoints;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.loop.Reconciler;
import t3.reconciler.controller.plan.PassOutcome;
import t3.reconciler.controller.store.Event;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.Channel;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.Version;

/** Issue 15 through the real loop: pre-bump backups as one batch, each user on record as before; after a failure, the down user is restored first. */
class BatchedBackupsAndRestoreOrderTest {
    static final Version A = Version.parse("0.0.25-nightly.20260601.1");
    static final Version B = Version.parse("0.0.25-nightly.20260608.2");

    @TempDir Path dir;

    @Test
    void oneBatchOfBackupsRecordsEachUserOnItsOwnAndAFaultStopsOnlyThatUser() throws Exception {
        DesiredState spec = FakeSpec.write(dir, List.of("alice", "bob", "carol"), "");
        StepClock clock = new StepClock(Instant.parse("2026-06-08T04:00:00Z"));
        FakeActuators fx = new FakeActuators(dir, FakeSpec.UNIT, clock);
        fx.settledOn(A, List.of("alice", "bob", "carol")).registry.publish(Channel.NIGHTLY, B);
        fx.backups.refuseUserFiles("alice");
        fx.failBackup("bob");

        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            Reconciler r = new Reconciler(fx.actuators(), store, clock, Log.toStderr(clock), new RecordingAlerter(), CrashPoints.none());
            Reconciler.Result first = r.reconcile(() -> spec, false, () -> false);

            // bob's outage ends the pass as an error; carol's backup in the same batch stands, alice is quarantined.
            assertEquals(PassOutcome.ERROR, first.outcome(), first.toString());
            assertEquals(1, fx.calls("backups.backup bob").size());
            assertTrue(store.rollout().orElseThrow().backups().containsKey("carol"));
            assertTrue(!store.rollout().orElseThrow().backups().containsKey("bob"));
            assertTrue(store.quarantined().containsKey("alice"), "alice's refused files quarantine her");
            List<Event> backups = store.events(Optional.empty(), 100).stream().filter(e -> e.action().equals("backup")).toList();
            assertEquals(List.of("alice failed", "bob failed", "carol ok"), backups.stream().map(e -> e.target() + " " + e.outcome()).sorted().toList(),
                    "one event per user, as when they were backed up one at a time");
            for (Event e : backups) assertTrue(e.reason().startsWith("pre-bump backup of " + e.target() + " (on " + A + ")"), "each event has its user's own reason: " + e.reason());

            fx.backups.backupsWork("bob");
            Reconciler.Result second = r.reconcile(() -> spec, false, () -> false);
            assertEquals(PassOutcome.CONVERGED, second.outcome(), second.toString());
            assertEquals(2, fx.calls("backups.backup bob").size(), "only bob's backup is taken again");
            assertEquals(1, fx.calls("backups.backup carol").size());
        }
    }

    @Test
    void afterAFailedCanaryTheUserItLeftDownIsRestoredBeforeTheLiveOnes() throws Exception {
        DesiredState spec = FakeSpec.write(dir, List.of("alice", "bob", "carol"), "");
        StepClock clock = new StepClock(Instant.parse("2026-06-08T04:00:00Z"));
        FakeActuators fx = new FakeActuators(dir, FakeSpec.UNIT, clock);
        fx.settledOn(A, List.of("alice", "bob", "carol")).registry.publish(Channel.NIGHTLY, B);
        fx.units.failRestart("carol"); // the last canary: its restart fails and leaves carol's server down

        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            Reconciler r = new Reconciler(fx.actuators(), store, clock, Log.toStderr(clock), new RecordingAlerter(), CrashPoints.none());
            Reconciler.Result result = r.reconcile(() -> spec, false, () -> false);

            assertEquals(PassOutcome.HELD, result.outcome(), result.toString());
            assertEquals(List.of("backups.restore carol", "backups.restore alice", "backups.restore bob"), fx.calls("backups.restore"),
                    "carol, down since her canary, is restored first; alice and bob were serving on the failed build");
            for (String u : List.of("alice", "bob", "carol")) assertEquals(Optional.of(A), fx.units.runs(u), u);
        }
    }
}
