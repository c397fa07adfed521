package t3.reconciler.controller.fake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.crash.CrashPoints;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.loop.Reconciler;
import t3.reconciler.controller.plan.Gate;
import t3.reconciler.controller.plan.PassOutcome;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.ApprovalRequest;
import t3.reconciler.model.Channel;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.Version;

/** The approval gate through the real loop and a real SQLite store: pause, promote, abort, and no carry-over. */
class ApprovalGateTest {
    static final Version A = Version.parse("0.0.25-nightly.20260601.1");
    static final Version B = Version.parse("0.0.25-nightly.20260608.2");
    static final Version C = Version.parse("0.0.25-nightly.20260609.3");

    @TempDir Path dir;

    StepClock clock = new StepClock(Instant.parse("2026-06-08T04:00:00Z"));
    FakeActuators fx;
    RecordingAlerter alerts = new RecordingAlerter();
    List<String> crashPoints = new ArrayList<>();

    DesiredState bed(String canary) throws Exception {
        DesiredState spec = FakeSpec.write(dir, List.of("alice", "bob", "carol"), canary);
        fx = new FakeActuators(dir, FakeSpec.UNIT, clock);
        fx.settledOn(A, List.of("alice", "bob", "carol")).registry.publish(Channel.NIGHTLY, B);
        return spec;
    }

    Reconciler.Result pass(DesiredState spec, StateStore store) throws Exception {
        return new Reconciler(fx.actuators(), store, clock, Log.toStderr(clock), alerts, CrashPoints.hook(crashPoints::add)).reconcile(() -> spec, false, () -> false);
    }

    static void ask(StateStore store, ApprovalRequest.Kind kind, Version v) {
        store.requestApproval(new ApprovalRequest(kind, v, "ops", "checked alice", Instant.parse("2026-06-08T04:30:00Z")));
    }

    @Test
    void manualApprovalHoldsAHealthyBuildBeforeAnyUserAndPromoteLetsItThrough() throws Exception {
        DesiredState spec = bed("canary: {approval: manual}\n");
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            Reconciler.Result held = pass(spec, store);
            assertEquals(Optional.of(Gate.AWAITING_APPROVAL), held.gate(), held.toString());
            assertEquals(Optional.of(A), fx.releases.activeVersion(), "the link does not move before the approval");
            assertEquals(1, fx.calls("health.check").size());
            assertTrue(crashPoints.contains("awaiting-approval"));
            // A pass while paused (a resync, a restart) stays paused and does nothing.
            int calls = fx.calls().size();
            assertEquals(Optional.of(Gate.AWAITING_APPROVAL), pass(spec, store).gate());
            List<String> acts = List.of("backups.backup", "packages.install", "health.check", "releases.activate", "units.restart", "pairing.verify", "backups.restore");
            assertEquals(List.of(), fx.calls().subList(calls, fx.calls().size()).stream().filter(c -> acts.contains(c.split(" ")[0])).toList());

            ask(store, ApprovalRequest.Kind.PROMOTE, B);
            Reconciler.Result done = pass(spec, store);
            assertEquals(PassOutcome.CONVERGED, done.outcome(), done.toString());
            for (String u : List.of("alice", "bob", "carol")) assertEquals(Optional.of(B), fx.units.runs(u));
            assertEquals(Optional.of(B), store.lastGood());
            assertEquals(List.of(), store.approvalRequests());
            assertEquals(List.of("T3AwaitingApproval"), alerts.names(), "one alert for the pause, not one per pass");
            assertEquals(List.of("T3AwaitingApproval {version=" + B + "}"), alerts.resolved());
        }
    }

    @Test
    void pauseAfterOneUserThenAbortRestoresOnlyTheUserTheBumpTouched() throws Exception {
        DesiredState spec = bed("canary: {pauseAfter: 1}\n");
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            Reconciler.Result held = pass(spec, store);
            assertEquals(Optional.of(Gate.AWAITING_APPROVAL), held.gate(), held.toString());
            assertEquals(Optional.of(B), fx.units.runs("alice"));
            assertEquals(Optional.of(A), fx.units.runs("bob"));
            assertEquals(Optional.of(A), fx.units.runs("carol"));

            ask(store, ApprovalRequest.Kind.ABORT, B);
            Reconciler.Result after = pass(spec, store);
            assertEquals(PassOutcome.HELD, after.outcome(), after.toString());
            assertEquals(Optional.of(A), fx.releases.activeVersion(), "the link is back on A");
            for (String u : List.of("alice", "bob", "carol")) assertEquals(Optional.of(A), fx.units.runs(u));
            assertTrue(fx.backups.restoredFrom("alice").isPresent(), "alice ran B: her database goes back to the pre-bump backup");
            assertTrue(fx.backups.restoredFrom("bob").isEmpty(), "bob never ran B");
            assertTrue(fx.backups.restoredFrom("carol").isEmpty(), "carol never ran B");
            assertTrue(store.blocked().contains(B));
            assertTrue(store.rollout().isEmpty());
            assertEquals(List.of("T3AwaitingApproval", "T3BumpFailed", "T3RolledBack"), alerts.names());
            assertEquals(List.of("T3AwaitingApproval {version=" + B + "}"), alerts.resolved());

            // The operator's unfreeze ends the failed bump's alerts too.
            store.requestUnfreeze(new t3.reconciler.model.UnfreezeRequest("ops", "B aborted on purpose", Instant.parse("2026-06-08T05:00:00Z")));
            pass(spec, store);
            assertEquals(List.of("T3AwaitingApproval {version=" + B + "}", "T3BumpFailed {version=" + B + "}", "T3RolledBack {version=" + B + "}"), alerts.resolved());
        }
    }

    @Test
    void anApprovalGivenForOneVersionNeverLetsAnotherThrough() throws Exception {
        DesiredState spec = bed("canary: {approval: manual}\n");
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            assertEquals(Optional.of(Gate.AWAITING_APPROVAL), pass(spec, store).gate());
            // The channel moves on while B waits: B never reached a user, so it is abandoned for C.
            fx.registry.publish(Channel.NIGHTLY, C);
            ask(store, ApprovalRequest.Kind.PROMOTE, B);
            Reconciler.Result held = pass(spec, store);
            assertEquals(Optional.of(Gate.AWAITING_APPROVAL), held.gate(), held.toString());
            assertEquals(C, store.rollout().orElseThrow().target());
            assertEquals(Optional.of(A), fx.releases.activeVersion(), "promote of B did not let C through");
            assertEquals(List.of(), store.approvalRequests(), "the promote of B was dropped");
        }
    }

    @Test
    void theApprovalOfTheFirstPauseDoesNotPassTheSecond() throws Exception {
        DesiredState spec = bed("canary: {approval: manual, pauseAfter: 1}\n");
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            assertEquals(Optional.of(Gate.AWAITING_APPROVAL), pass(spec, store).gate());
            ask(store, ApprovalRequest.Kind.PROMOTE, B);
            Reconciler.Result second = pass(spec, store);
            assertEquals(Optional.of(Gate.AWAITING_APPROVAL), second.gate(), second.toString());
            assertTrue(crashPoints.contains("after-approve"));
            assertEquals(Optional.of(B), fx.units.runs("alice"));
            assertEquals(Optional.of(A), fx.units.runs("bob"));
            ask(store, ApprovalRequest.Kind.PROMOTE, B);
            assertEquals(PassOutcome.CONVERGED, pass(spec, store).outcome());
            assertEquals(Optional.of(B), fx.units.runs("carol"));
        }
    }
}
