package t3.reconciler.controller.fake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.crash.CrashPoints;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.loop.Reconciler;
import t3.reconciler.controller.plan.PassOutcome;
import t3.reconciler.controller.store.Event;
import t3.reconciler.controller.store.JournalKind;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.Channel;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.Version;

/**
 * Issue 15 through the real loop: a build that dies at start is activated, bob and carol are restarted onto it outside
 * the controller (they go down), the canary fails on alice; the three who are down are restored as one batch, each
 * user's outcome on record as that user's own restore step, dave (never touched) left alone.
 */
class RestoreDownTest {
    static final Version A = Version.parse("0.0.25-nightly.20260601.1");
    static final Version B = Version.parse("0.0.25-nightly.20260608.2");
    static final List<String> USERS = List.of("alice", "bob", "carol", "dave");

    @TempDir Path dir;

    private FakeActuators bedOn(Path root, StepClock clock) {
        FakeActuators fx = new FakeActuators(root, FakeSpec.UNIT, clock);
        fx.settledOn(A, USERS).registry.publish(Channel.NIGHTLY, B);
        fx.units.crashesOn(B);
        return fx;
    }

    /** bob and carol are restarted by someone else as soon as the link is on B: they die on it, their start on record. */
    private static CrashPoints othersRestartOnB(FakeActuators fx) {
        return CrashPoints.hook(point -> {
            if (point.equals("after-activate")) fx.units.restartedOutside("bob").restartedOutside("carol");
        });
    }

    /** What each finish-rollback step says it restored. */
    private static List<String> finished(StateStore store) {
        return store.events(Optional.empty(), 200).stream().filter(e -> e.action().equals("finish-rollback") && e.outcome().equals("ok"))
                .map(e -> e.reason().replaceAll(".*(restored [^=]*?) =>.*", "$1").strip()).toList();
    }

    @Test
    void usersDownAfterTheFailedBuildAreRestoredInOneBatchAndARefusedOneIsQuarantinedAlone() throws Exception {
        DesiredState spec = FakeSpec.write(dir, USERS, "");
        StepClock clock = new StepClock(Instant.parse("2026-06-08T04:00:00Z"));
        FakeActuators fx = bedOn(dir, clock);
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            Reconciler r = new Reconciler(fx.actuators(), store, clock, Log.toStderr(clock), new RecordingAlerter(), othersRestartOnB(fx));
            // carol's files are refused only once the bump is under way (her pre-bump backup was taken).
            fx.hook(call -> { if (call.startsWith("backups.restoreAll")) fx.backups.refuseUserFiles("carol"); });
            Reconciler.Result result = r.reconcile(() -> spec, false, () -> false);

            assertEquals(PassOutcome.HELD, result.outcome(), result.toString());
            assertEquals(List.of("backups.restoreAll alice,bob,carol x3"), fx.calls("backups.restoreAll"),
                    "alice (her canary died) and bob and carol (started on " + B + " by someone else) are down: one batch");
            assertEquals(List.of(), fx.calls("units.stop"), "nobody in the batch was running: nothing is stopped");
            List<Event> restores = store.events(Optional.empty(), 200).stream().filter(e -> e.action().equals("restore")).toList();
            assertEquals(List.of("alice ok", "bob ok", "carol failed"), restores.stream().map(e -> e.target() + " " + e.outcome()).sorted().toList(),
                    "one restore event per user, as when they were restored one at a time");
            for (Event e : restores) assertTrue(e.reason().startsWith("rollback: " + e.target() + " was restarted onto " + B), "each event has its user's own reason: " + e.reason());
            assertEquals(List.of("restored alice, bob; quarantined, not restored: carol"), finished(store), "the rollback finished around carol");
            assertTrue(store.quarantined().containsKey("carol"), "carol's refused files quarantine her, and only her");
            assertTrue(store.journal().isEmpty(), "nothing left for recovery");
            for (String u : List.of("alice", "bob", "carol")) assertEquals(Optional.of(A), fx.units.runs(u), u + " runs the old build again");
            assertTrue(fx.backups.restoredFrom("dave").isEmpty(), "dave was never started on " + B + ": left alone");
            assertEquals(0, fx.units.restarts("dave"));
            assertEquals(List.of("pairing.verify alice@" + A, "pairing.verify bob@" + A), fx.calls("pairing.verify").stream().filter(c -> c.endsWith("@" + A)).toList(),
                    "each restored user pairs on the old build");
        }
    }

    @Test
    void aMissingBackupRefusesTheWholeBatchBeforeAnythingIsTouched() throws Exception {
        DesiredState spec = FakeSpec.write(dir, USERS, "");
        StepClock clock = new StepClock(Instant.parse("2026-06-08T04:00:00Z"));
        FakeActuators fx = bedOn(dir, clock);
        RecordingAlerter alerts = new RecordingAlerter();
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            CrashPoints losesBobsBackups = CrashPoints.hook(point -> {
                if (point.equals("after-activate")) fx.units.restartedOutside("bob").restartedOutside("carol");
                if (point.equals("after-rollback-binary")) fx.backups.lose("bob");
            });
            Reconciler r = new Reconciler(fx.actuators(), store, clock, Log.toStderr(clock), alerts, losesBobsBackups);
            r.reconcile(() -> spec, false, () -> false);

            assertEquals(List.of(), fx.calls("backups.restore"), "nobody's database is touched when one backup of the batch is missing");
            assertEquals(t3.reconciler.model.BreakerState.Status.ROLLBACK_FAILED, store.breaker().status());
            assertTrue(alerts.names().contains("T3RollbackFailed"), alerts.names().toString());
            assertTrue(store.journal().isEmpty(), "a refusal is final: nothing for recovery to redo on every pass");
            for (String u : List.of("alice", "bob", "carol")) assertEquals(Optional.empty(), fx.units.runs(u), u + " is left as it was: down");
        }
    }

    @Test
    void anOutageKeepsTheJournalAndTheNextPassRedoesOnlyThatUser() throws Exception {
        DesiredState spec = FakeSpec.write(dir, USERS, "");
        StepClock clock = new StepClock(Instant.parse("2026-06-08T04:00:00Z"));
        FakeActuators fx = bedOn(dir, clock);
        fx.backups.restoreOutage("bob");
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            Reconciler r = new Reconciler(fx.actuators(), store, clock, Log.toStderr(clock), new RecordingAlerter(), othersRestartOnB(fx));
            Reconciler.Result first = r.reconcile(() -> spec, false, () -> false);

            assertEquals(PassOutcome.ERROR, first.outcome(), first.toString());
            assertEquals(JournalKind.RESTORE_DOWN, store.journal().orElseThrow().kind(), "bob's outage keeps the batch's journal for recovery");
            assertEquals(Set.of("alice", "carol"), store.rollout().orElseThrow().restored());
            assertEquals(Optional.of(A), fx.units.runs("alice"));
            assertEquals(Optional.of(A), fx.units.runs("carol"));
            assertEquals(Optional.empty(), fx.units.runs("bob"), "bob's database is not restored: his server is not started on the old build over it");

            fx.backups.restoresWork("bob");
            Reconciler.Result second = r.reconcile(() -> spec, false, () -> false);
            assertEquals(PassOutcome.HELD, second.outcome(), second.toString());
            assertEquals(List.of("backups.restore alice", "backups.restore bob", "backups.restore carol", "backups.restore bob"), fx.calls("backups.restore "),
                    "recovery redoes bob's restore only");
            assertTrue(store.events(Optional.empty(), 200).stream().anyMatch(e -> e.action().equals("recover") && e.target().startsWith("restore-down")));
            assertEquals(Optional.of(A), fx.units.runs("bob"));
            assertEquals(List.of("restored alice, bob, carol"), finished(store));
        }
    }

    @Test
    void aCrashMidBatchIsRedoneByRecoveryForEveryListedUser() throws Exception {
        DesiredState spec = FakeSpec.write(dir, USERS, "");
        StepClock clock = new StepClock(Instant.parse("2026-06-08T04:00:00Z"));
        FakeActuators fx = bedOn(dir, clock);
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            CrashPoints dies = CrashPoints.hook(point -> {
                if (point.equals("after-activate")) fx.units.restartedOutside("bob").restartedOutside("carol");
                if (point.equals("mid-restore-down")) throw new IllegalStateException("crash at " + point);
            });
            Reconciler crashing = new Reconciler(fx.actuators(), store, clock, Log.toStderr(clock), new RecordingAlerter(), dies);
            assertThrows(IllegalStateException.class, () -> crashing.reconcile(() -> spec, false, () -> false));
            assertEquals(JournalKind.RESTORE_DOWN, store.journal().orElseThrow().kind());
            assertEquals(List.of(), fx.calls("backups.restore"), "the crash came before any database was touched");

            Reconciler next = new Reconciler(fx.actuators(), store, clock, Log.toStderr(clock), new RecordingAlerter(), CrashPoints.none());
            Reconciler.Result result = next.reconcile(() -> spec, false, () -> false);
            assertEquals(PassOutcome.HELD, result.outcome(), result.toString());
            assertEquals(List.of("backups.restoreAll alice,bob,carol x3"), fx.calls("backups.restoreAll"), "recovery redoes the whole batch, side by side");
            for (String u : List.of("alice", "bob", "carol")) assertEquals(Optional.of(A), fx.units.runs(u), u);
            assertEquals(List.of("restored alice, bob, carol"), finished(store));
        }
    }
}

