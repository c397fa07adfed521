package t3.reconciler.controller.fake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.plan.PassOutcome;
import t3.reconciler.controller.crash.CrashPoints;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.loop.Reconciler;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.Channel;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.Version;

/** The fixture's own proof: a whole bump (and a failed one's rollback) through the real loop, in process and without root. */
class GoodBumpTest {
    static final Version A = Version.parse("0.0.25-nightly.20260601.1");
    static final Version B = Version.parse("0.0.25-nightly.20260608.2");

    @TempDir Path dir;

    @Test
    void aNewNightlyReachesEveryUserOneAtATimeAndBecomesLastGood() throws Exception {
        DesiredState spec = FakeSpec.write(dir, List.of("alice", "bob"), "");
        StepClock clock = new StepClock(Instant.parse("2026-06-08T04:00:00Z"));
        FakeActuators fx = new FakeActuators(dir, FakeSpec.UNIT, clock);
        // Today's daily backups are done: the pass is the bump alone.
        fx.settledOn(A, List.of("alice", "bob")).registry.publish(Channel.NIGHTLY, B);
        RecordingAlerter alerts = new RecordingAlerter();

        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            Reconciler r = new Reconciler(fx.actuators(), store, clock, Log.toStderr(clock), alerts, CrashPoints.none());
            Reconciler.Result result = r.reconcile(() -> spec, false, () -> false);

            assertEquals(PassOutcome.CONVERGED, result.outcome(), result.toString());
            assertEquals(Optional.of(B), store.lastGood());
            assertEquals(Optional.of(B), fx.releases.activeVersion());
            assertEquals(Optional.of(B), fx.units.runs("alice"));
            assertEquals(Optional.of(B), fx.units.runs("bob"));
            // Backed up before the new build could touch them, then restarted one at a time, each verified before the next.
            Set<String> acts = Set.of("backups.backup", "packages.install", "health.check", "releases.activate", "units.restart", "pairing.verify");
            List<String> order = fx.calls().stream().filter(c -> acts.contains(c.split(" ")[0])).toList();
            assertEquals(List.of("backups.backup alice", "backups.backup bob", "packages.install " + B, "health.check " + B,
                    "releases.activate " + B, "units.restart t3-serve@alice.service", "pairing.verify alice@" + B,
                    "units.restart t3-serve@bob.service", "pairing.verify bob@" + B), order);
            assertTrue(store.rollout().isEmpty(), "the rollout is closed");
            assertEquals(List.of(), alerts.names());
        }
    }

    @Test
    void aCanaryThatDoesNotPairIsRolledBackAndEveryoneIsRestored() throws Exception {
        DesiredState spec = FakeSpec.write(dir, List.of("alice", "bob"), "");
        StepClock clock = new StepClock(Instant.parse("2026-06-08T04:00:00Z"));
        FakeActuators fx = new FakeActuators(dir, FakeSpec.UNIT, clock);
        fx.settledOn(A, List.of("alice", "bob")).registry.publish(Channel.NIGHTLY, B);
        fx.failCanary("bob", B);
        RecordingAlerter alerts = new RecordingAlerter();

        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            Reconciler r = new Reconciler(fx.actuators(), store, clock, Log.toStderr(clock), alerts, CrashPoints.none());
            Reconciler.Result result = r.reconcile(() -> spec, false, () -> false);

            assertEquals(PassOutcome.HELD, result.outcome(), result.toString());
            assertEquals(Optional.of(A), fx.releases.activeVersion(), "the link is back on A");
            assertEquals(Optional.of(A), fx.units.runs("alice"));
            assertEquals(Optional.of(A), fx.units.runs("bob"));
            // Both were restarted onto B, so both databases go back to their pre-bump backups.
            assertTrue(fx.backups.restoredFrom("alice").isPresent());
            assertTrue(fx.backups.restoredFrom("bob").isPresent());
            assertTrue(store.blocked().contains(B));
            assertEquals(List.of("T3BumpFailed", "T3RolledBack"), alerts.names());
        }
    }
}
