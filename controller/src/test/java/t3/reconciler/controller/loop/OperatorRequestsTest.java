package t3.reconciler.controller.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.crash.CrashPoints;
import t3.reconciler.controller.fake.FakeActuators;
import t3.reconciler.controller.fake.FakeSpec;
import t3.reconciler.controller.fake.RecordingAlerter;
import t3.reconciler.controller.fake.StepClock;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.plan.Action;
import t3.reconciler.controller.plan.Planner;
import t3.reconciler.controller.store.Event;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.controller.store.StepInFlight;
import t3.reconciler.model.BreakerState;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.UnblockRequest;
import t3.reconciler.model.UnfreezeRequest;
import t3.reconciler.model.Version;

/** {@code unfreeze} and {@code unblock} are requests: the planner plans their step, the executor is the one writer of breaker and blocked list. */
class OperatorRequestsTest {
    static final Version A = Version.parse("0.0.25-nightly.20260601.1");
    static final Version B = Version.parse("0.0.25-nightly.20260608.2");
    static final Instant T0 = Instant.parse("2026-06-08T04:00:00Z");

    @TempDir Path dir;

    @Test
    void theUnfreezeComesFirstThenEachUnblockThenNothing() {
        var unfreeze = Optional.of(new UnfreezeRequest("jane", "fixed the disk", T0));
        var unblock = List.of(new UnblockRequest(B, "jane", "fixed upstream", T0));
        assertEquals(new Action.ResetBreaker(), Planner.operatorRequest(unfreeze, unblock).orElseThrow().action());
        assertTrue(Planner.operatorRequest(unfreeze, unblock).orElseThrow().reason().contains("fixed the disk"));
        assertEquals(new Action.Unblock(B), Planner.operatorRequest(Optional.empty(), unblock).orElseThrow().action());
        assertEquals(Optional.empty(), Planner.operatorRequest(Optional.empty(), List.of()));
    }

    @Test
    void theReconcilerCarriesOutOnlyTheRequestsAndClearsThem() throws Exception {
        DesiredState spec = FakeSpec.write(dir, List.of("alice"), "");
        StepClock clock = new StepClock(T0);
        FakeActuators fx = new FakeActuators(dir, FakeSpec.UNIT, clock);
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            store.saveBreaker(new BreakerState(BreakerState.Status.ROLLBACK_FAILED, Optional.of(B), Optional.of("restore refused"), Optional.of(T0), 1));
            store.block(B, "canary failed", T0);
            store.block(A, "rolled back", T0);
            store.requestUnfreeze(new UnfreezeRequest("jane", "repaired by hand", T0));
            store.requestUnblock(new UnblockRequest(B, "jane", "fixed upstream", T0));
            Reconciler r = new Reconciler(fx.actuators(), store, clock, Log.toStderr(clock), new RecordingAlerter(), CrashPoints.none());

            assertEquals(2, r.applyRequests(spec));
            assertTrue(store.breaker().isClosed());
            assertEquals(java.util.Set.of(A), store.blocked(), "only the version asked for");
            assertEquals(Optional.empty(), store.unfreezeRequest());
            assertEquals(List.of(), store.unblockRequests());
            List<String> steps = store.events(Optional.empty(), 10).stream().map(e -> e.action() + " " + e.target() + " " + e.outcome()).toList();
            assertEquals(List.of("reset-breaker - ok", "unblock " + B + " ok"), steps);
            assertEquals(List.of(), fx.calls(), "no actuator was touched");
            assertEquals(0, r.applyRequests(spec), "nothing left");
        }
    }

    @Test
    void theVersionARollbackMovesOffIsBlockedByTheControllerOnceAndTheRequestStays() throws Exception {
        DesiredState spec = FakeSpec.write(dir, List.of("alice"), "");
        StepClock clock = new StepClock(T0);
        FakeActuators fx = new FakeActuators(dir, FakeSpec.UNIT, clock);
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            store.requestRollback(new t3.reconciler.model.RollbackRequest(A, false, "jane", T0, Optional.of(B)));
            Executor ex = new Executor(fx.actuators(), store, clock, new RecordingAlerter(), CrashPoints.none());
            assertTrue(ex.execute(spec, new Action.Block(B, "rolled back to " + A + " by jane")).ok());
            assertEquals(java.util.Set.of(B), store.blocked());
            assertEquals(Optional.of(new t3.reconciler.model.RollbackRequest(A, false, "jane", T0)), store.rollbackRequest(),
                    "the request stays until done, with nothing left to block: an 'unblock' meanwhile is not undone");
        }
    }

    @Test
    void aStepLeftInFlightByACrashIsRecoveredFirstByTheNextPassNotSkipped() throws Exception {
        DesiredState spec = FakeSpec.write(dir, List.of("alice"), "");
        StepClock clock = new StepClock(T0);
        FakeActuators fx = new FakeActuators(dir, FakeSpec.UNIT, clock);
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            store.stepBegins(new StepInFlight("backup", "alice"));
            store.requestUnblock(new UnblockRequest(B, "jane", "fixed upstream", T0));
            store.block(B, "canary failed", T0);
            Reconciler r = new Reconciler(fx.actuators(), store, clock, Log.toStderr(clock), new RecordingAlerter(), CrashPoints.none());
            assertEquals(0, r.applyRequests(spec));
            assertEquals(Optional.of(new StepInFlight("backup", "alice")), store.stepInFlight(), "still there for Recovery to report");
            assertFalse(store.unblockRequests().isEmpty(), "left for the next pass");
            List<Event> none = store.events(Optional.empty(), 10);
            assertEquals(List.of(), none);
        }
    }
}
