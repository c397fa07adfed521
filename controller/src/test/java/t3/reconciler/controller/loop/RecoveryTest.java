package t3.reconciler.controller.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.fake.FakeActuators;
import t3.reconciler.controller.fake.FakeSpec;
import t3.reconciler.controller.fake.StepClock;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.store.Activation;
import t3.reconciler.controller.store.Event;
import t3.reconciler.controller.store.JournalEntry;
import t3.reconciler.controller.store.JournalKind;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.controller.store.StepInFlight;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.Version;

/** What a restart after a crash finds in the journal, finished or undone on the in-memory actuators, one kind at a time. */
class RecoveryTest {
    static final Version A = Version.parse("0.0.25-nightly.20260601.1");
    static final Version B = Version.parse("0.0.25-nightly.20260608.2");

    @TempDir Path dir;
    DesiredState spec;
    StepClock clock;
    FakeActuators fx;

    @BeforeEach
    void machine() throws Exception {
        spec = FakeSpec.write(dir, List.of("alice", "bob"), "");
        clock = new StepClock(Instant.parse("2026-06-08T04:00:00Z"));
        fx = new FakeActuators(dir, FakeSpec.UNIT, clock);
        fx.releases.installed(A).installed(B).activeNow(A);
        fx.units.running("alice").running("bob");
    }

    Optional<String> recover(StateStore store) throws Exception {
        return new Recovery(fx.actuators(), store, clock, Log.toStderr(clock)).resolve(spec);
    }

    static Event lastEvent(StateStore store) {
        List<Event> all = store.events(Optional.empty(), 100);
        return all.get(all.size() - 1);
    }

    @Test
    void nothingJournaledNothingDone() throws Exception {
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            assertEquals(Optional.empty(), recover(store));
            assertEquals(List.of(), store.events(Optional.empty(), 10));
        }
    }

    @Test
    void aStepThatDiedOutsideItsJournaledPartIsReportedOnce() throws Exception {
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            store.stepBegins(new StepInFlight("backup", "alice"));
            assertTrue(recover(store).orElseThrow().contains("outside its journaled part"));
            assertEquals("recover", lastEvent(store).action());
            assertEquals("backup alice", lastEvent(store).target());
            assertEquals(Optional.empty(), store.stepInFlight());
            assertEquals(Optional.empty(), recover(store), "reported once");
        }
    }

    @Test
    void aCanaryLeftDownIsStarted() throws Exception {
        fx.units.stopped("alice");
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            store.journalBegin(new JournalEntry(JournalKind.CANARY, "alice", "{\"unit\":\"t3-serve@alice.service\"}", clock.instant()));
            store.stepBegins(new StepInFlight("canary", "alice@" + B));
            assertTrue(recover(store).orElseThrow().startsWith("started t3-serve@alice.service"));
            assertTrue(fx.units.runs("alice").isPresent(), "alice is up again");
            assertEquals(Optional.empty(), store.journal());
            assertEquals(Optional.empty(), store.stepInFlight());
            assertEquals("canary alice", lastEvent(store).target());
        }
    }

    @Test
    void anActivationWhoseRecordWasLostIsRecordedAtTheJournalsStart() throws Exception {
        fx.releases.activeNow(B);
        Instant began = clock.instant();
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            store.recordActivation(A, began.minusSeconds(3600));
            store.journalBegin(new JournalEntry(JournalKind.ACTIVATE, B.toString(), "{}", began));
            assertTrue(recover(store).orElseThrow().startsWith("recorded the switch to " + B));
            assertEquals(new Activation(B, began), store.activations().get(store.activations().size() - 1));
            // Journaled but the link never moved: nothing to record.
            store.journalBegin(new JournalEntry(JournalKind.ROLLBACK_BINARY, A.toString(), "{}", clock.instant()));
            assertTrue(recover(store).orElseThrow().contains("nothing to finish"));
            assertEquals(2, store.activations().size());
        }
    }

    @Test
    void aRestoreInFlightIsRedoneAndItsUnitStartedAgain() throws Exception {
        BackupInfo onA = fx.backups.existing("alice", A);
        fx.units.stopped("alice");
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            var r = store.startRollout(B, Optional.of(A), clock.instant());
            store.rolloutFailed(r.id(), "canary alice (pairing): told to fail");
            store.journalBegin(new JournalEntry(JournalKind.RESTORE, "alice",
                    "{\"unit\":\"t3-serve@alice.service\",\"backup\":\"" + onA.path() + "\",\"start\":true}", clock.instant()));
            assertTrue(recover(store).orElseThrow().startsWith("redid the restore of alice"));
            assertEquals(Optional.of(onA.path()), fx.backups.restoredFrom("alice"));
            assertTrue(fx.units.runs("alice").isPresent(), "started again, as journaled");
            assertTrue(store.rollout().orElseThrow().restored().contains("alice"));
            assertEquals(Optional.empty(), store.journal());
        }
    }

    @Test
    void aRestoreWhoseFilesAreNowRefusedQuarantinesTheUser() throws Exception {
        BackupInfo onA = fx.backups.existing("alice", A);
        fx.backups.refuseUserFiles("alice");
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            store.journalBegin(new JournalEntry(JournalKind.RESTORE, "alice",
                    "{\"unit\":\"t3-serve@alice.service\",\"backup\":\"" + onA.path() + "\",\"start\":true}", clock.instant()));
            assertTrue(recover(store).orElseThrow().contains("quarantined"));
            assertTrue(store.quarantined().containsKey("alice"));
            assertEquals(Optional.empty(), store.journal());
        }
    }

    @Test
    void aHalfInstalledPrefixIsRemoved() throws Exception {
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            Version half = Version.parse("0.0.25-nightly.20260609.3");
            java.nio.file.Files.createDirectories(fx.releases.prefixOf(half).resolve("bin"));
            store.journalBegin(new JournalEntry(JournalKind.INSTALL, half.toString(), "{}", clock.instant()));
            assertTrue(recover(store).orElseThrow().startsWith("removed the half-installed prefix"));
            assertTrue(java.nio.file.Files.notExists(fx.releases.prefixOf(half)), "gone from disk");
            assertEquals(Optional.empty(), store.journal());
        }
    }
}
