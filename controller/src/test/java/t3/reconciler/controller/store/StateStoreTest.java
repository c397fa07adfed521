package t3.reconciler.controller.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.plan.Gate;
import t3.reconciler.controller.plan.PassOutcome;
import t3.reconciler.model.BreakerState;
import t3.reconciler.model.Rollout;
import t3.reconciler.model.Version;

class StateStoreTest {
    private static final Instant T0 = Instant.parse("2026-06-08T10:15:30.123456789Z");
    private static final Version V1 = Version.parse("0.0.24"), V2 = Version.parse("0.0.25-nightly.20260608.497");

    @TempDir Path dir;

    @Test
    void migratesAFreshFileToTheCurrentSchemaInPrivateDirectories() throws Exception {
        Path file = dir.resolve("var/lib/t3-reconciler/state.db");
        try (StateStore s = StateStore.open(file)) {
            assertEquals(Migrations.latest(), s.schemaVersion());
            assertEquals(Optional.empty(), s.lastGood());
            assertEquals(Optional.empty(), s.rollout());
            assertTrue(s.breaker().isClosed());
        }
        assertEquals("rwx------", perms(dir.resolve("var")));
        assertEquals("rwx------", perms(file.getParent()));
        assertEquals("rw-------", perms(file));
        assertEquals("wal", sql(file, "PRAGMA journal_mode"));
        assertEquals(String.valueOf(Migrations.latest()), sql(file, "PRAGMA user_version"));
    }

    @Test
    void rollbackRequestSurvivesReopeningUntilClearedAndUnblockRemovesOneVersion() throws Exception {
        Path file = dir.resolve("state.db");
        var req = new t3.reconciler.model.RollbackRequest(V1, true, "jane doe", T0);
        try (StateStore s = StateStore.open(file)) {
            assertTrue(s.rollbackRequest().isEmpty());
            s.requestRollback(req);
            s.block(V1, "a", T0);
            s.block(V2, "b", T0);
        }
        try (StateStore s = StateStore.open(file)) {
            assertEquals(java.util.Optional.of(req), s.rollbackRequest());
            s.clearRollbackRequest();
            assertTrue(s.rollbackRequest().isEmpty());
            s.unblock(V2);
            assertEquals(java.util.Set.of(V1), s.blocked());
        }
    }

    @Test
    void aVersionOneStoreGainsTheQuarantineTableAndKeepsItsRows() throws Exception {
        Path file = dir.resolve("v1.db");
        // As a controller of that release left it: schema 1, no quarantine table.
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = c.createStatement()) {
            for (String sql : Migrations.STEPS.get(0).statements()) st.execute(sql);
            st.execute("PRAGMA user_version = 1");
            st.execute("INSERT INTO blocked (version, reason, at) VALUES ('" + V2 + "', 'canary failed', '" + T0 + "')");
        }
        try (StateStore s = StateStore.open(file)) {
            assertEquals(Migrations.latest(), s.schemaVersion());
            assertEquals(java.util.Set.of(V2), s.blocked(), "old rows readable");
            s.quarantine("alice", "restore refused: database is a symbolic link", T0);
            s.quarantine("alice", "backup refused: still a link", T0.plusSeconds(60));
        }
        try (StateStore s = StateStore.open(file)) {
            var q = s.quarantined().get("alice");
            assertEquals("backup refused: still a link", q.reason(), "the latest refusal");
            assertEquals(T0.plusSeconds(60), q.since());
            assertTrue(s.liftQuarantine("alice"));
            assertFalse(s.liftQuarantine("alice"), "lifting twice reports nothing to lift");
            assertTrue(s.quarantined().isEmpty());
        }
    }

    /** Schema 2 kept what the CLI and the daemon tell each other as space-joined facts; schema 3 reads them into typed columns. */
    @Test
    void aVersionTwoStoreKeepsItsRollbackRequestLastReconcileAndStepInFlight() throws Exception {
        Path file = dir.resolve("v2.db");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = c.createStatement()) {
            for (Migrations.Step step : Migrations.STEPS.subList(0, 2)) for (String sql : step.statements()) st.execute(sql);
            st.execute("PRAGMA user_version = 2");
            st.execute("INSERT INTO fact (key, value) VALUES ('rollback-request', '" + V1 + " force " + T0 + " jane doe')");
            st.execute("INSERT INTO fact (key, value) VALUES ('last-reconcile-start', '2026-06-08T10:15:00Z')");
            st.execute("INSERT INTO fact (key, value) VALUES ('last-reconcile', '2026-06-08T10:15:02Z held after 0 step(s): frozen by the operator')");
            st.execute("INSERT INTO fact (key, value) VALUES ('step-in-flight', 'canary alice@" + V2 + "')");
            st.execute("INSERT INTO fact (key, value) VALUES ('last-pass', 'hold:frozen')");
            st.execute("INSERT INTO fact (key, value) VALUES ('held-back-since', '1780000000')");
            st.execute("INSERT INTO event (at, action, target, outcome, reason) VALUES ('" + T0 + "', 'restore', 'alice', 'ok', 'why => restored x')");
        }
        try (StateStore s = StateStore.open(file)) {
            assertEquals(Migrations.latest(), s.schemaVersion());
            assertEquals(Optional.of(new t3.reconciler.model.RollbackRequest(V1, true, "jane doe", T0)), s.rollbackRequest());
            LastReconcile last = s.lastReconcile().orElseThrow();
            assertEquals(Optional.of(PassOutcome.HELD), last.outcome());
            assertEquals("2026-06-08T10:15:02Z held after 0 step(s): frozen by the operator", last.text(), "status shows what it showed");
            assertTrue(last.endedPassStartedAtOrAfter(Instant.parse("2026-06-08T10:15:00Z")));
            assertEquals(Optional.of(new StepInFlight("canary", "alice@" + V2)), s.stepInFlight());
            assertEquals(Optional.empty(), s.lastDecision(), "a dedup key only: dropped");
            assertEquals(Optional.empty(), s.get("rollback-request"), "moved, not copied");
            assertEquals(Optional.of("1780000000"), s.get("held-back-since"), "other facts stay");
            Event old = s.events(Optional.empty(), 10).get(0);
            assertEquals("why => restored x", old.reason());
            assertEquals(null, old.detail(), "events of schema 2 have no separate detail");
            s.event(T0, "restore", "bob", "ok", "why => restored y", "restored y");
            assertEquals("restored y", s.events(Optional.empty(), 10).get(1).detail());
        }
    }

    @Test
    void aVersionTwoStoreWithoutFactsMigratesToEmptyTypedRows() throws Exception {
        Path file = dir.resolve("v2-empty.db");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = c.createStatement()) {
            for (Migrations.Step step : Migrations.STEPS.subList(0, 2)) for (String sql : step.statements()) st.execute(sql);
            st.execute("PRAGMA user_version = 2");
            st.execute("INSERT INTO fact (key, value) VALUES ('step-in-flight', '')");
        }
        try (StateStore s = StateStore.open(file)) {
            assertEquals(Optional.empty(), s.rollbackRequest());
            assertEquals(Optional.empty(), s.lastReconcile());
            assertEquals(Optional.empty(), s.stepInFlight(), "a blank step-in-flight is none");
        }
    }

    @Test
    void operatorRequestsSurviveReopeningUntilCleared() {
        Path file = dir.resolve("state.db");
        var unfreeze = new t3.reconciler.model.UnfreezeRequest("jane doe", "disk replaced", T0);
        var unblockV1 = new t3.reconciler.model.UnblockRequest(V1, "jane doe", "fixed", T0);
        var unblockV2 = new t3.reconciler.model.UnblockRequest(V2, "joe", "fixed too", T0.plusSeconds(1));
        try (StateStore s = StateStore.open(file)) {
            s.requestUnfreeze(unfreeze);
            s.requestUnblock(unblockV2);
            s.requestUnblock(unblockV1);
        }
        try (StateStore s = StateStore.open(file)) {
            assertEquals(Optional.of(unfreeze), s.unfreezeRequest());
            assertEquals(List.of(unblockV1, unblockV2), s.unblockRequests(), "oldest first");
            s.clearUnfreezeRequest();
            s.clearUnblockRequest(V1);
            assertEquals(Optional.empty(), s.unfreezeRequest());
            assertEquals(List.of(unblockV2), s.unblockRequests());
        }
    }

    @Test
    void migratesAnExistingEmptyFile() throws Exception {
        Path file = Files.createFile(dir.resolve("state.db"));
        try (StateStore s = StateStore.open(file)) {
            assertEquals(Migrations.latest(), s.schemaVersion());
        }
    }

    @Test
    void reopeningKeepsEverything() {
        Path file = dir.resolve("state.db");
        BreakerState open = new BreakerState(BreakerState.Status.OPEN, Optional.of(V2), Optional.of("canary failed"), Optional.of(T0), 2);
        try (StateStore s = StateStore.open(file)) {
            s.put("restart-needed", "ok");
            s.put("restart-needed", "held-back");
            s.reconcileStarted(T0);
            s.reconcileEnded(T0.plusSeconds(2), PassOutcome.HELD, Optional.of(Gate.BUSY), 3, "held after 3 step(s): busy");
            s.recordDecision(new LastDecision("hold", Optional.of(Gate.BUSY), "bob is busy"));
            s.stepBegins(new StepInFlight("canary", "bob@" + V2));
            s.setLastGood(V1, T0);
            s.recordActivation(V1, T0);
            s.recordActivation(V2, T0.plusSeconds(60));
            s.block(V2, "broke pairing", T0);
            s.saveBreaker(open);
            s.event(T0, "bump", V2.toString(), "failed", "canary");
        }
        try (StateStore s = StateStore.open(file)) {
            assertEquals(Optional.of("held-back"), s.get("restart-needed"));
            assertEquals(Optional.of(new LastReconcile(Optional.of(T0), Optional.of(T0.plusSeconds(2)), Optional.of(PassOutcome.HELD), Optional.of(Gate.BUSY), 3,
                    "held after 3 step(s): busy")), s.lastReconcile());
            assertTrue(s.lastReconcile().orElseThrow().endedPassStartedAtOrAfter(T0));
            assertFalse(s.lastReconcile().orElseThrow().endedPassStartedAtOrAfter(T0.plusSeconds(1)), "a pass that started before the signal does not answer it");
            assertEquals(Optional.of(new LastDecision("hold", Optional.of(Gate.BUSY), "bob is busy")), s.lastDecision());
            assertEquals(Optional.of(new StepInFlight("canary", "bob@" + V2)), s.stepInFlight());
            s.stepEnded();
            assertEquals(Optional.empty(), s.stepInFlight());
            assertEquals(Optional.empty(), s.get("nothing"));
            assertEquals(Optional.of(V1), s.lastGood());
            assertEquals(List.of(new Activation(V1, T0), new Activation(V2, T0.plusSeconds(60))), s.activations());
            assertEquals(Set.of(V2), s.blocked());
            assertEquals(open, s.breaker());
            assertEquals(List.of(new Event(1, T0, "bump", V2.toString(), "failed", "canary")), s.events(Optional.empty(), 10));
        }
    }

    @Test
    void refusesADatabaseFromANewerRelease() throws Exception {
        Path file = dir.resolve("state.db");
        StateStore.open(file).close();
        sql(file, "PRAGMA user_version = " + (Migrations.latest() + 1));
        StateStoreException e = assertThrows(StateStoreException.class, () -> StateStore.open(file));
        assertTrue(e.getMessage().contains("newer release"), e.getMessage());
        assertEquals(String.valueOf(Migrations.latest() + 1), sql(file, "PRAGMA user_version"), "left untouched");
    }

    @Test
    void refusesSomeoneElsesDatabase() throws Exception {
        Path file = dir.resolve("state.sqlite");
        sql(file, "CREATE TABLE projection_threads (id TEXT PRIMARY KEY)");
        StateStoreException e = assertThrows(StateStoreException.class, () -> StateStore.open(file));
        assertTrue(e.getMessage().contains("not a t3-reconciler state database"), e.getMessage());
        assertEquals("0", sql(file, "PRAGMA user_version"));
    }

    @Test
    void journalRoundTripSurvivesReopen() {
        Path file = dir.resolve("state.db");
        JournalEntry entry = new JournalEntry(JournalKind.RESTORE, "alice", "{\"backup\":\"/var/backups/t3-state/alice/x.sqlite\"}", T0);
        try (StateStore s = StateStore.open(file)) {
            assertEquals(Optional.empty(), s.journal());
            s.journalBegin(entry);
            IllegalStateException twice = assertThrows(IllegalStateException.class,
                    () -> s.journalBegin(new JournalEntry(JournalKind.CANARY, "bob", "{}", T0)));
            assertTrue(twice.getMessage().contains("restore alice"), twice.getMessage());
        }
        try (StateStore s = StateStore.open(file)) {
            assertEquals(Optional.of(entry), s.journal());
            s.journalClear();
            s.journalClear();
            assertEquals(Optional.empty(), s.journal());
            s.journalBegin(new JournalEntry(JournalKind.CANARY, "bob", "{}", T0));
        }
    }

    @Test
    void rolloutLifecycle() throws Exception {
        Path file = dir.resolve("state.db");
        long id;
        try (StateStore s = StateStore.open(file)) {
            Rollout r = s.startRollout(V2, Optional.of(V1), T0);
            id = r.id();
            assertEquals(Optional.of(r), s.rollout());
            assertThrows(IllegalStateException.class, () -> s.startRollout(V2, Optional.of(V1), T0));
            s.rolloutBackup(id, "alice", Path.of("/var/backups/t3-state/alice/a.sqlite"));
            s.rolloutBackup(id, "bob", Path.of("/var/backups/t3-state/bob/b.sqlite"));
            s.rolloutHealthy(id);
            s.rolloutRestarted(id, "alice");
            s.rolloutFailed(id, "alice: pairing failed");
            s.rolloutFailed(id, "later trouble");
            s.rolloutRestored(id, "alice");
            assertThrows(IllegalArgumentException.class, () -> s.rolloutVerified(id, "../etc"));
        }
        try (StateStore s = StateStore.open(file)) {
            Rollout r = s.rollout().orElseThrow();
            assertEquals(new Rollout(id, V2, Optional.of(V1), T0,
                    Map.of("alice", Path.of("/var/backups/t3-state/alice/a.sqlite"), "bob", Path.of("/var/backups/t3-state/bob/b.sqlite")),
                    true, Set.of("alice"), Set.of(), Set.of("alice"), Optional.of("alice: pairing failed")), r);
            assertThrows(IllegalArgumentException.class, () -> s.finishRollout(id, "done", T0));
            s.finishRollout(id, "rolled-back", T0.plusSeconds(5));
            assertEquals(Optional.empty(), s.rollout());
            assertThrows(IllegalStateException.class, () -> s.rolloutVerified(id, "bob"));
            assertThrows(IllegalStateException.class, () -> s.finishRollout(id, "succeeded", T0));
            assertThrows(IllegalStateException.class, () -> s.rolloutHealthy(id + 100));

            Rollout next = s.startRollout(V2, Optional.empty(), T0.plusSeconds(10));
            assertTrue(next.id() > id);
            s.rolloutVerified(next.id(), "bob");
            assertEquals(Set.of("bob"), s.rollout().orElseThrow().verified());
            assertEquals(Optional.empty(), s.rollout().orElseThrow().from());
        }
        assertEquals("rolled-back", sql(file, "SELECT outcome FROM rollout WHERE id = " + id), "finished rollouts stay with their outcome");
    }

    @Test
    void eventsSinceAndLimitKeepLogOrder() {
        try (StateStore s = StateStore.open(dir.resolve("state.db"))) {
            for (int i = 0; i < 10; i++) s.event(T0.plusSeconds(i), "step", "e" + i, "ok", null);
            assertEquals(List.of("e7", "e8", "e9"), targets(s.events(Optional.empty(), 3)));
            assertEquals(List.of("e5", "e6", "e7", "e8", "e9"), targets(s.events(Optional.of(T0.plusSeconds(5)), 100)));
            assertEquals(List.of("e8", "e9"), targets(s.events(Optional.of(T0.plusSeconds(5)), 2)));
            assertEquals(List.of(), targets(s.events(Optional.of(T0.plusSeconds(11)), 5)));
            assertEquals(List.of(), targets(s.events(Optional.empty(), 0)));
            // An event stamped earlier but logged later still comes last: the log is append order.
            Event late = s.event(T0.plusSeconds(6).plusNanos(1), "late", "e10", null, null);
            assertEquals(List.of("e8", "e9", "e10"), targets(s.events(Optional.of(T0.plusSeconds(6)), 3)));
            assertEquals(late, s.events(Optional.empty(), 1).get(0));
        }
    }

    @Test
    void eventLogIsAppendOnly() {
        Path file = dir.resolve("state.db");
        try (StateStore s = StateStore.open(file)) {
            s.event(T0, "step", "x", "ok", "why");
        }
        Exception e = assertThrows(Exception.class, () -> sql(file, "DELETE FROM event"));
        assertTrue(e.getMessage().contains("append-only"), e.getMessage());
    }

    @Test
    void breakerRoundTrip() {
        Path file = dir.resolve("state.db");
        BreakerState failed = new BreakerState(BreakerState.Status.ROLLBACK_FAILED, Optional.of(V2), Optional.of("restore of alice failed"), Optional.of(T0), 3);
        try (StateStore s = StateStore.open(file)) {
            assertEquals(BreakerState.closed(), s.breaker());
            s.saveBreaker(failed);
        }
        try (StateStore s = StateStore.open(file)) {
            assertEquals(failed, s.breaker());
            s.saveBreaker(BreakerState.closed());
            assertEquals(BreakerState.closed(), s.breaker());
        }
    }

    @Test
    void aSecondConnectionReadsWhileTheFirstWrites() {
        Path file = dir.resolve("state.db");
        try (StateStore daemon = StateStore.open(file); StateStore cli = StateStore.open(file)) {
            daemon.setLastGood(V1, T0);
            assertEquals(Optional.of(V1), cli.lastGood());
            cli.put("k", "from cli");
            assertEquals(Optional.of("from cli"), daemon.get("k"));
        }
    }

    @Test
    void closedStoreRefusesWork() {
        StateStore s = StateStore.open(dir.resolve("state.db"));
        s.close();
        s.close();
        assertThrows(IllegalStateException.class, s::lastGood);
    }

    @Test
    void concurrentWritersLoseNothing() throws Exception {
        try (StateStore s = StateStore.open(dir.resolve("state.db"))) {
            Thread[] threads = new Thread[4];
            for (int t = 0; t < threads.length; t++) {
                int n = t;
                threads[t] = new Thread(() -> { for (int i = 0; i < 50; i++) s.event(T0, "t" + n, "e" + i, "ok", null); });
                threads[t].start();
            }
            for (Thread t : threads) t.join();
            assertEquals(200, s.events(Optional.empty(), 1000).size());
        }
    }

    /** A process that dies without closing anything (as after SIGKILL) has still made every returned write durable. */
    @Test
    void writesSurviveAnAbruptExit() throws Exception {
        Path file = dir.resolve("state.db");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), AbruptWriter.class.getName(), file.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(137, p.waitFor(), out);
        try (StateStore s = StateStore.open(file)) {
            assertEquals(Optional.of(V2), s.lastGood());
            assertEquals(JournalKind.RESTORE, s.journal().orElseThrow().kind());
        }
    }

    /** Run in a child JVM by {@link #writesSurviveAnAbruptExit}. */
    public static final class AbruptWriter {
        public static void main(String[] args) {
            StateStore s = StateStore.open(Path.of(args[0]));
            s.setLastGood(V2, T0);
            s.journalBegin(new JournalEntry(JournalKind.RESTORE, "alice", "{}", T0));
            Runtime.getRuntime().halt(137); // no close, no checkpoint, no shutdown hooks
        }
    }

    private static List<String> targets(List<Event> events) {
        return events.stream().map(Event::target).toList();
    }

    private static String perms(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    /** Raw access, as an operator with the sqlite3 shell would have. */
    private static String sql(Path file, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = c.createStatement()) {
            if (!st.execute(sql)) return null;
            try (ResultSet rs = st.getResultSet()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }
}
