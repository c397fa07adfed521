package t3.reconciler.controller.fake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.crash.CrashPoints;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.loop.Reconciler;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.Channel;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.Version;

/** T3UserQuarantined is resolved by the backup that lifts the quarantine. */
class QuarantineResolveTest {
    static final Version A = Version.parse("0.0.25-nightly.20260601.1");

    @TempDir Path dir;

    @Test
    void theBackupThatLiftsAQuarantineResolvesItsAlert() throws Exception {
        DesiredState spec = FakeSpec.write(dir, List.of("alice", "bob"), "");
        StepClock clock = new StepClock(Instant.parse("2026-06-08T04:00:00Z"));
        FakeActuators fx = new FakeActuators(dir, FakeSpec.UNIT, clock);
        fx.releases.activeNow(A);
        fx.units.running("alice").running("bob");
        fx.registry.publish(Channel.NIGHTLY, A);
        fx.backups.existing("bob", A);
        fx.backups.refuseUserFiles("alice");
        RecordingAlerter alerts = new RecordingAlerter();
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            Reconciler r = new Reconciler(fx.actuators(), store, clock, Log.toStderr(clock), alerts, CrashPoints.none());
            r.reconcile(() -> spec, false, () -> false);
            assertTrue(store.quarantined().containsKey("alice"));
            assertEquals(List.of("T3UserQuarantined"), alerts.names());
            assertEquals(List.of(), alerts.resolved());

            fx.backups.backupsWork("alice");
            clock.advance(Duration.ofDays(1));
            r.reconcile(() -> spec, false, () -> false);
            assertFalse(store.quarantined().containsKey("alice"));
            assertEquals(List.of("T3UserQuarantined {user=alice}"), alerts.resolved());
        }
    }
}
