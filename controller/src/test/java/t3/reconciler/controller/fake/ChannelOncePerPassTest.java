package t3.reconciler.controller.fake;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.Channel;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.Version;

/** Issue 15: the registry is asked once per pass, so a rollout's target holds until the pass ends; the next pass asks again. */
class ChannelOncePerPassTest {
    static final Version A = Version.parse("0.0.25-nightly.20260601.1");
    static final Version B = Version.parse("0.0.25-nightly.20260608.2");
    static final Version C = Version.parse("0.0.25-nightly.20260609.1");

    @TempDir Path dir;

    @Test
    void aTagThatMovesDuringABumpWaitsForTheNextPass() throws Exception {
        DesiredState spec = FakeSpec.write(dir, List.of("alice", "bob", "carol"), "");
        StepClock clock = new StepClock(Instant.parse("2026-06-08T04:00:00Z"));
        FakeActuators fx = new FakeActuators(dir, FakeSpec.UNIT, clock);
        fx.settledOn(A, List.of("alice", "bob", "carol")).registry.publish(Channel.NIGHTLY, B);
        // C is tagged while B is being installed, before B reached anyone.
        fx.hook(call -> {
            if (call.equals("packages.install " + B)) fx.registry.publish(Channel.NIGHTLY, C);
        });

        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            Reconciler r = new Reconciler(fx.actuators(), store, clock, Log.toStderr(clock), new RecordingAlerter(), CrashPoints.none());
            Reconciler.Result first = r.reconcile(() -> spec, false, () -> false);

            assertEquals(PassOutcome.CONVERGED, first.outcome(), first.toString());
            assertEquals(1, fx.calls("packages.resolve").size(), "one question to the registry for a whole bump of 3 users");
            assertEquals(Optional.of(B), store.lastGood(), "the pass finished the rollout it started");
            for (String u : List.of("alice", "bob", "carol")) assertEquals(Optional.of(B), fx.units.runs(u), u);

            Reconciler.Result second = r.reconcile(() -> spec, false, () -> false);
            assertEquals(PassOutcome.CONVERGED, second.outcome(), second.toString());
            assertEquals(2, fx.calls("packages.resolve").size(), "the next pass asks again");
            assertEquals(Optional.of(C), store.lastGood(), "and bumps to the tag's new build");
        }
    }
}
