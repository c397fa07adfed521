package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import t3.reconciler.controller.actuator.UnitStatus;
import t3.reconciler.controller.actuator.backup.SqliteBackups;
import t3.reconciler.controller.actuator.systemd.DbusUnits;
import t3.reconciler.controller.cli.Main;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.Version;

/**
 * Issue 5's acceptance for the operator commands, on the real bed (systemd user manager, loopback registry,
 * stand-in t3), each run in-process through {@link Main#run} with its output captured: dry-run FAIL/PASS touches
 * nothing, freeze stops a pending bump and unfreeze lets it go, rollback puts every unit and database back (and
 * refuses when a backup is missing), backup and unblock. The steps build on each other, hence the order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CliBedIT {
    static final String[] USERS = {"t3k-ann", "t3k-ben"};
    static final Version V0 = Version.parse("0.0.25-nightly.20260601.1");
    /** Breaks a migration on populated databases: the health check on a copy of real data catches it. */
    static final Version BROKEN = Version.parse("0.0.25-nightly.20260605.1");
    /** Good, one schema migration ahead of V0 (5 vs 4): a rollback must take databases back to 4. */
    static final Version V1 = Version.parse("0.0.25-nightly.20260608.2");
    static Bed bed;
    static Path transcript;
    /** Per user: migrations in the pre-bump backup (on V0), taken by the bump in step 4. */
    static final Map<String, Path> preBump = new LinkedHashMap<>();

    record Run(int code, String out, String err) {}

    @BeforeAll
    static void up() throws Exception {
        bed = Bed.fresh(USERS);
        transcript = bed.dir.resolve("cli-transcript.txt");
    }

    @AfterAll
    static void down() throws Exception {
        if (bed != null) bed.close();
    }

    @Test
    @Order(1)
    void dryRunWithoutAVerifiedBackupIsRefusedNamingTheSeedUser() throws Exception {
        Run r = cli("dry-run");
        assertEquals(Main.REFUSED, r.code(), r.err());
        assertTrue(r.err().contains("no verified backup of t3k-ann"), r.err());
    }

    @Test
    @Order(2)
    void backupTakesAVerifiedBackupPerUserAndRejectsAnUnknownOne() throws Exception {
        Run r = cli("backup", "t3k-ann");
        assertEquals(Main.OK, r.code(), r.out() + r.err());
        List<BackupInfo> ann = backups("t3k-ann");
        assertEquals(1, ann.size());
        assertTrue(ann.get(0).verified() && ann.get(0).version().equals(V0), ann.toString());
        assertTrue(r.out().contains("t3k-ann: " + ann.get(0).path()), r.out());
        assertTrue(backups("t3k-ben").isEmpty(), "only the named user");
        Run listed = cli("backups", "t3k-ann");
        assertEquals(Main.OK, listed.code(), listed.err());
        assertTrue(listed.out().contains(V0 + "") && listed.out().contains("verified") && listed.out().contains(ann.get(0).path().toString()),
                "backups lists what backup took: " + listed.out());

        Run bad = cli("backup", "t3k-ann", "t3k-zed");
        assertEquals(Main.USAGE, bad.code());
        assertTrue(bad.err().contains("unknown user 't3k-zed'"), bad.err());
        assertEquals(1, backups("t3k-ann").size(), "an unknown user fails the whole command before any backup");
    }

    @Test
    @Order(3)
    void dryRunOfABrokenBuildFailsAndTouchesNothingThenAGoodBuildPasses() throws Exception {
        bed.publish(BROKEN.toString(), "migration-fails-populated");
        Snapshot before = Snapshot.take();
        Run fail = cli("dry-run", BROKEN.toString());
        assertEquals(Main.FAILED, fail.code(), fail.out() + fail.err());
        assertTrue(fail.out().contains("FAIL " + BROKEN + ": health check (migration)"), fail.out());
        assertEquals(before, Snapshot.take(), "link, installed versions, units and databases untouched");
        assertScratchEmpty();

        publish(V1, "good", 5, "nightly");
        Run pass = cli("dry-run");
        assertEquals(Main.OK, pass.code(), pass.out() + pass.err());
        assertTrue(pass.out().contains("PASS " + V1 + ": "), pass.out());
        assertEquals(before, Snapshot.take(), "a passing dry run installs nothing and restarts nobody either");
        assertScratchEmpty();
        record("dry-run " + BROKEN, fail);
        record("dry-run", pass);
    }

    @Test
    @Order(4)
    void freezeStopsThePendingBumpAndUnfreezeLetsItGo() throws Exception {
        assertEquals(Main.OK, cli("freeze", "--reason", "cli bed test").code());
        Snapshot frozen = Snapshot.take();
        Run held = cli("run", "--once");
        assertEquals(Main.REFUSED, held.code(), held.err());
        assertEquals(frozen, Snapshot.take(), "frozen: nothing installed, nobody restarted");
        assertFalse(Files.exists(bed.dir.resolve("versions/" + V1)));
        assertTrue(cli("status", "--no-registry").out().contains("cli bed test"));
        Run plan = cli("plan");
        assertEquals(Main.REFUSED, plan.code(), "a held plan exits 3: " + plan.out() + plan.err());
        assertTrue(plan.out().contains("Next: hold (") && plan.out().contains("cli bed test"), "plan names the freeze and its reason: " + plan.out());
        assertEquals(frozen, Snapshot.take(), "plan changes nothing");
        JsonNode status = new ObjectMapper().readTree(cli("status", "--json").out());
        assertEquals(V1.toString(), status.path("candidate").asText(), "status --json resolves the channel: " + status);
        assertEquals(V0.toString(), status.path("installed").asText());
        for (JsonNode u : status.path("users")) assertEquals(V0.toString(), u.path("running").asText(), u.toString());
        assertEquals(USERS.length, status.path("users").size());

        assertEquals(Main.OK, cli("unfreeze").code());
        Run bump = cli("run", "--once");
        assertEquals(Main.OK, bump.code(), bump.err());
        assertEquals(bed.dir.resolve("versions/" + V1 + "/bin/t3"), Files.readSymbolicLink(bed.link()));
        for (String u : USERS) {
            assertEquals(5, maxMigration(bed.database(u)), u + " migrated by " + V1);
            Path b = backups(u).stream().filter(x -> x.verified() && x.version().equals(V0)).findFirst().orElseThrow().path();
            preBump.put(u, b);
        }
    }

    @Test
    @Order(5)
    void rollbackRefusesWithoutANeededBackupAndChangesNothing() throws Exception {
        Path benDir = bed.dir.resolve("backups/t3k-ben");
        Path aside = bed.dir.resolve("backups-aside");
        Files.move(benDir, aside); // t3k-ben now has no backup on any version
        try {
            Snapshot before = Snapshot.take();
            Run r = cli("rollback");
            assertEquals(Main.REFUSED, r.code(), r.out() + r.err());
            assertTrue(r.err().contains("no verified backup taken on " + V0 + " for t3k-ben,") && !r.err().contains("t3k-ann"), r.err());
            assertEquals(before, Snapshot.take());
            assertFalse(Files.exists(bed.freezeFile()), "refused means no freeze either");
            try (StateStore store = StateStore.open(bed.stateDb())) {
                assertTrue(store.rollbackRequest().isEmpty() && store.blocked().isEmpty());
            }
        } finally {
            Files.move(aside, benDir);
        }
    }

    @Test
    @Order(6)
    void rollbackPutsEveryUnitAndDatabaseBackOnTheOldVersion() throws Exception {
        Map<String, UnitStatus> beforeUnits = units();
        Instant start = Instant.now();
        bed.agent("t3k-ben", true); // an agent at work: ben is deferred, never killed, unless --force
        Run deferred = cli("rollback");
        record("rollback", deferred);
        assertEquals(Main.REFUSED, deferred.code(), deferred.out() + deferred.err());
        assertTrue(deferred.out().contains("  t3k-ann: active on " + V0 + "; [ok] restored "), deferred.out());
        assertTrue(deferred.out().contains("  t3k-ben: active on " + V1 + " (busy: ") && deferred.out().contains("rollback NOT finished"), deferred.out());
        assertEquals(beforeUnits.get("t3k-ben").mainPid(), units().get("t3k-ben").mainPid(), "the busy user was not touched");
        assertEquals(5, migrations(bed.database("t3k-ben")).size(), "nor its database");

        Run r = cli("rollback", "--force");
        record("rollback --force", r);
        assertEquals(Main.OK, r.code(), r.out() + r.err());

        assertEquals(bed.dir.resolve("versions/" + V0 + "/bin/t3"), Files.readSymbolicLink(bed.link()), "link back on " + V0);
        Map<String, UnitStatus> after = units();
        for (String u : USERS) {
            UnitStatus s = after.get(u);
            assertTrue(s.active(), u + " is up");
            assertNotEquals(beforeUnits.get(u).mainPid(), s.mainPid(), u + " restarted");
            assertTrue(s.execMainStart().orElseThrow().isAfter(start), u + " started after the rollback began, so on the switched link");
            assertEquals(migrations(preBump.get(u)), migrations(bed.database(u)), u + "'s schema is the pre-bump backup's");
            assertTrue(threads(bed.database(u)).containsAll(threads(preBump.get(u))), u + " has its pre-bump threads");
            assertTrue(r.out().contains("  " + u + ": active on " + V0 + "; [ok] restored "), r.out());
        }
        assertTrue(Files.readString(bed.freezeFile()).startsWith("rollback to " + V0 + " by "), "froze first");
        try (StateStore store = StateStore.open(bed.stateDb())) {
            assertEquals(Optional.of(V0), store.lastGood());
            assertTrue(store.rollbackRequest().isEmpty(), "request cleared once converged");
            assertTrue(store.blocked().contains(V1), "the version rolled back from is blocked");
        }
        assertEquals(Main.REFUSED, cli("run", "--once").code(), "stays frozen afterwards");
    }

    @Test
    @Order(7)
    void unblockRemovesABlockedVersionAndRecordsWho() throws Exception {
        Run r = cli("unblock", V1.toString(), "--reason", "fixed upstream");
        assertEquals(Main.OK, r.code(), r.err());
        try (StateStore store = StateStore.open(bed.stateDb())) {
            assertFalse(store.blocked().contains(V1));
            assertTrue(store.events(Optional.empty(), 50).stream().anyMatch(e -> e.action().equals("unblock") && e.target().equals(V1.toString()) && e.reason().endsWith(": fixed upstream")));
        }
        Run again = cli("unblock", V1.toString());
        assertEquals(Main.USAGE, again.code());
        assertTrue(again.err().contains(V1 + " is not blocked"), again.err());
        assertTrue(cli("events", "--since", "1h").out().contains("unblock " + V1 + " [ok]"));
    }

    @Test
    @Order(8)
    void reconcileWaitFollowsTheRunningDaemonsNextPass() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start(bed.spec, Map.of())) {
            // Signalled once its start-up pass has ended (so it is idle), and only then: the pass --wait follows is the signal's.
            daemon.await(0, DaemonProcess.ev("reconciled"), Duration.ofSeconds(120), "the daemon's start-up pass");
            assertEquals(Long.toString(daemon.pid()), Files.readString(bed.dir.resolve("state/t3-reconciler.pid")).strip());
            int mark = daemon.mark();
            Instant sent = Instant.now();
            Run r = cli("reconcile", "--wait");
            record("reconcile --wait", r);
            assertEquals(Main.REFUSED, r.code(), r.out() + r.err());
            assertTrue(r.out().contains("reconciled: ") && r.out().contains(" held after 0 step(s): frozen by the operator freeze file"), r.out());
            try (StateStore store = StateStore.open(bed.stateDb())) {
                Instant started = store.lastReconcile().flatMap(t3.reconciler.controller.store.LastReconcile::startedAt).orElseThrow();
                assertTrue(!started.isBefore(sent), "the pass it waited for started after the signal: " + started + " vs " + sent);
                daemon.await(mark, DaemonProcess.ev("reconcile").and(n -> n.path("trigger").asText().equals("SIGHUP")), Duration.ofSeconds(30),
                        "the pass waited for is the one the signal caused");
            }
        }
    }

    // -- helpers

    /** What a dry run must leave alone: the link, the versions dir, every unit's process, every database's schema. */
    record Snapshot(Path link, List<String> versions, Map<String, UnitStatus> units, Map<String, List<String>> schemas) {
        static Snapshot take() throws Exception {
            List<String> versions;
            try (Stream<Path> l = Files.list(bed.dir.resolve("versions"))) {
                versions = l.map(p -> p.getFileName().toString()).sorted().toList();
            }
            Map<String, List<String>> schemas = new LinkedHashMap<>();
            for (String u : USERS) schemas.put(u, migrations(bed.database(u)));
            Map<String, UnitStatus> units = new LinkedHashMap<>();
            // nRestarts and subState aside: pid and start time say whether the process is the same one
            CliBedIT.units().forEach((u, s) -> units.put(u, new UnitStatus(s.name(), s.activeState(), "", s.mainPid(), s.execMainStart(), 0, Optional.empty())));
            return new Snapshot(Files.readSymbolicLink(bed.link()), versions, units, schemas);
        }
    }

    static Run cli(String... args) {
        List<String> full = new ArrayList<>(List.of(args));
        full.add("-f");
        full.add(bed.spec.toString());
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true));
            System.setErr(new PrintStream(e, true));
            int code = Main.run(full.toArray(String[]::new));
            return new Run(code, o.toString(), e.toString());
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    static void record(String what, Run r) throws Exception {
        Files.writeString(transcript, "$ t3-reconciler " + what + "\n" + r.out() + "(exit " + r.code() + ")\n\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** registry.sh directly: bed.sh publish has no schema argument. */
    static void publish(Version v, String flavor, int schema, String tag) throws Exception {
        Process p = new ProcessBuilder(Bed.repoRoot().resolve("testbed/registry.sh").toString(), "publish", bed.dir.resolve("registry").toString(),
                v.toString(), flavor, Integer.toString(schema), tag).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
    }

    static List<BackupInfo> backups(String user) throws Exception { return new SqliteBackups(bed.dir.resolve("backups")).list(user); }

    static Map<String, UnitStatus> units() throws Exception {
        Map<String, UnitStatus> m = new LinkedHashMap<>();
        try (DbusUnits units = new DbusUnits(bed.bus(), Duration.ofSeconds(2))) {
            for (String u : USERS) m.put(u, units.status("t3-serve@" + u + ".service"));
        }
        return m;
    }

    static void assertScratchEmpty() throws Exception {
        try (Stream<Path> l = Files.list(bed.dir.resolve("scratch"))) {
            List<Path> left = l.toList();
            assertTrue(left.isEmpty(), "temporary prefix and health-check scratch removed: " + left);
        }
    }

    static List<String> migrations(Path db) throws Exception { return query(db, "SELECT migration_id || ' ' || name FROM effect_sql_migrations ORDER BY migration_id"); }

    static List<String> threads(Path db) throws Exception { return query(db, "SELECT id || ' ' || title FROM projection_threads ORDER BY id"); }

    static int maxMigration(Path db) throws Exception { return Integer.parseInt(query(db, "SELECT max(migration_id) FROM effect_sql_migrations").get(0)); }

    static List<String> query(Path db, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + db + "?mode=ro");
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            List<String> rows = new ArrayList<>();
            while (rs.next()) rows.add(rs.getString(1));
            return rows;
        }
    }
}
