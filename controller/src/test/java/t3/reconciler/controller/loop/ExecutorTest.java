package t3.reconciler.controller.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.crash.CrashPoints;
import t3.reconciler.controller.fake.FakeActuators;
import t3.reconciler.controller.fake.FakeSpec;
import t3.reconciler.controller.fake.RecordingAlerter;
import t3.reconciler.controller.fake.StepClock;
import t3.reconciler.controller.plan.Action;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.BreakerState;
import t3.reconciler.controller.actuator.FleetPort;
import t3.reconciler.model.Channel;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.Version;

/**
 * The executor on the in-memory actuators: each verdict comes back as a failed outcome with the consequence
 * {@code Rejection} gives it recorded (the rollout fails, or the rollback failed), and a step leaves no journal and
 * no step in flight behind, whatever its end.
 */
class ExecutorTest {
    static final Version A = Version.parse("0.0.25-nightly.20260601.1");
    static final Version B = Version.parse("0.0.25-nightly.20260608.2");

    @TempDir Path dir;
    DesiredState spec;
    StepClock clock;
    FakeActuators fx;
    RecordingAlerter alerts;

    @BeforeEach
    void machine() throws Exception {
        spec = FakeSpec.write(dir, List.of("alice", "bob"), "");
        clock = new StepClock(Instant.parse("2026-06-08T04:00:00Z"));
        fx = new FakeActuators(dir, FakeSpec.UNIT, clock);
        fx.releases.installed(A).activeNow(A);
        fx.units.running("alice").running("bob");
        fx.registry.publish(Channel.NIGHTLY, A).publish(Channel.NIGHTLY, B);
        alerts = new RecordingAlerter();
    }

    Executor executor(StateStore store) { return new Executor(fx.actuators(), store, clock, alerts, CrashPoints.none()); }

    static void assertNothingInFlight(StateStore store) {
        assertEquals(Optional.empty(), store.journal(), "no journal left");
        assertEquals(Optional.empty(), store.stepInFlight(), "no step in flight left");
    }

    @Test
    void aFailedHealthCheckFailsTheRolloutAndTouchesNeitherBreakerNorLink() throws Exception {
        fx.health.failHealth(B);
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            Executor ex = executor(store);
            store.startRollout(B, Optional.of(A), clock.instant());
            assertTrue(ex.execute(spec, new Action.Install(B)).ok());
            Outcome o = ex.execute(spec, new Action.CheckHealth(B, "alice", Optional.empty()));
            assertFalse(o.ok(), o.toString());
            assertFalse(o.fault(), "a verdict, not a fault");
            assertTrue(store.rollout().orElseThrow().failure().orElseThrow().startsWith("health check (migration)"), store.rollout().toString());
            assertTrue(store.breaker().isClosed(), "opening the breaker is the planner's next step, not the executor's");
            assertEquals(Optional.of(A), fx.releases.activeVersion());
            assertNothingInFlight(store);
        }
    }

    @Test
    void aCanaryThatDoesNotPairFailsTheRolloutAfterRecordingTheRestart() throws Exception {
        fx.pairing.failCanary("alice", B);
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            Executor ex = executor(store);
            store.startRollout(B, Optional.of(A), clock.instant());
            ex.execute(spec, new Action.Install(B));
            ex.execute(spec, new Action.Activate(B));
            Outcome o = ex.execute(spec, new Action.Canary("alice", B));
            assertFalse(o.ok(), o.toString());
            var r = store.rollout().orElseThrow();
            assertTrue(r.restarted().contains("alice"), "restarted is recorded before the restart: the rollback must restore alice");
            assertFalse(r.verified().contains("alice"));
            assertTrue(r.failed());
            assertNothingInFlight(store);
        }
    }

    @Test
    void anInstallThatFailsDuringABumpFailsTheRolloutButDuringARollbackTheRollbackFailed() throws Exception {
        Version unpublished = Version.parse("0.0.25-nightly.20260609.3");
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            Executor ex = executor(store);
            store.startRollout(unpublished, Optional.of(A), clock.instant());
            Outcome bump = ex.execute(spec, new Action.Install(unpublished));
            assertFalse(bump.ok());
            assertTrue(store.rollout().orElseThrow().failed(), "the bump failed");
            assertTrue(store.breaker().isClosed());
            assertEquals(List.of(), alerts.names());

            // The same verdict while rolling back (the rollout has failed): the last-good cannot be put back.
            Outcome rollback = ex.execute(spec, new Action.Install(unpublished));
            assertFalse(rollback.ok());
            assertEquals(BreakerState.Status.ROLLBACK_FAILED, store.breaker().status());
            assertEquals(List.of("T3RollbackFailed"), alerts.names());
            assertNothingInFlight(store);
        }
    }

    @Test
    void aLinkThatCannotMoveBackIsARollbackThatFailedAndTheStepThrows() throws Exception {
        fx.releases.installed(B).activeNow(B);
        fx.releases.failLink(true);
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            Executor ex = executor(store);
            var r = store.startRollout(B, Optional.of(A), clock.instant());
            store.rolloutFailed(r.id(), "canary alice (pairing): told to fail");
            assertThrows(ActuatorException.class, () -> ex.execute(spec, new Action.RollbackBinary(A)));
            assertEquals(BreakerState.Status.ROLLBACK_FAILED, store.breaker().status());
            assertEquals(List.of("T3RollbackFailed"), alerts.names());
            assertEquals(Optional.empty(), store.stepInFlight());
        }
    }

    @Test
    void aRefusedBackupQuarantinesTheUserAndAFailingDiskIsAFault() throws Exception {
        fx.backups.refuseUserFiles("alice");
        fx.backups.failBackup("bob");
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            Executor ex = executor(store);
            Outcome refused = ex.execute(spec, new Action.Backup("alice", A, false));
            assertFalse(refused.ok());
            assertFalse(refused.fault());
            assertTrue(store.quarantined().containsKey("alice"));
            Outcome disk = ex.execute(spec, new Action.Backup("bob", A, false));
            assertTrue(disk.fault(), "not bob's files: a fault, retried with backoff, no quarantine");
            assertFalse(store.quarantined().containsKey("bob"));
            assertEquals(List.of("T3UserQuarantined"), alerts.names());
        }
    }

    @Test
    void retentionKeepsThePreBumpBackupAndTheNewestVerifiedOneOfEachRollbackTarget() throws Exception {
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            Executor ex = executor(store);
            store.setLastGood(A, clock.instant());
            BackupInfo onA = fx.backups.existing("alice", A);
            var r = store.startRollout(B, Optional.of(A), clock.instant());
            for (int i = 0; i < spec.backup().keep() + 3; i++) ex.execute(spec, new Action.Backup("alice", B, false));
            ex.execute(spec, new Action.Backup("alice", A, true));
            Path preBump = store.rollout().orElseThrow().backups().get("alice");
            ex.execute(spec, new Action.Backup("alice", B, false));
            List<Path> kept = fx.backups.of("alice").stream().map(BackupInfo::path).toList();
            assertTrue(kept.contains(preBump), "this rollout's pre-bump backup: " + kept);
            assertTrue(kept.size() < spec.backup().keep() + 5, "pruned: " + kept);
            assertTrue(kept.size() <= spec.backup().keep() + 2, "pruned to keep plus what is protected: " + kept);
            assertTrue(fx.backups.of("alice").stream().anyMatch(x -> x.version().equals(A)), "a verified backup on last-good " + A + " (" + onA.path().getFileName() + " or newer) is kept: " + kept);
            assertEquals(r.id(), store.rollout().orElseThrow().id());
        }
    }

    /** Losing the race for the last slot, or releasing a slot never held, changes nothing: labelled so, not "ok". */
    @Test
    void aSlotStepThatChangesNothingIsUnchangedNotOk() throws Exception {
        t3.reconciler.controller.fake.FakeEtcd etcd = new t3.reconciler.controller.fake.FakeEtcd(clock);
        fx.fleet(etcd, "other", 1).lock();
        FleetPort self = fx.fleet(etcd, "self", 1);
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            Executor ex = new Executor(fx.actuators().withFleet(Optional.of(self)), store, clock, alerts, CrashPoints.none());
            assertEquals("unchanged", ex.execute(spec, new Action.TakeSlot(B)).label(), "every slot held by another host");
            assertEquals("unchanged", ex.execute(spec, new Action.ReleaseSlot()).label(), "no slot held");
            etcd.forceUnlock("other");
            assertEquals("ok", ex.execute(spec, new Action.TakeSlot(B)).label(), "a free slot taken");
            assertEquals("ok", ex.execute(spec, new Action.ReleaseSlot()).label(), "the slot released");
        }
    }
}
