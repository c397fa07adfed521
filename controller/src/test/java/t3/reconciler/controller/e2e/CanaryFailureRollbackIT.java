package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import t3.reconciler.controller.actuator.systemd.DbusUnits;
import t3.reconciler.controller.cli.Main;
import t3.reconciler.controller.store.Event;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.Version;

/**
 * A build whose migration fails only on data the seed user does not have: it passes the health check, the canary
 * migrates the first two users, then fails on the third. Rollback must restore all three (not only the one that
 * failed), archive what it replaces, and leave every unit up on the old version.
 */
class CanaryFailureRollbackIT {
    static final String[] USERS = {"t3c-alice", "t3c-bob", "t3c-carol"};
    static final Version V0 = Version.parse("0.0.25-nightly.20260601.1");
    static final Version BAD = Version.parse("0.0.25-nightly.20260608.7");
    static Bed bed;

    @BeforeAll
    static void up() throws Exception {
        bed = Bed.fresh(USERS);
    }

    @AfterAll
    static void down() throws Exception {
        if (bed != null) bed.close();
    }

    @Test
    void canaryFailingOnTheThirdUserRestoresAllThree() throws Exception {
        bed.archiveThread("t3c-carol");
        bed.publish(BAD.toString(), "migration-fails-archived", "nightly");

        assertEquals(Main.REFUSED, Main.run("run", "--once", "-f", bed.spec.toString()), "the pass ends held by the open breaker");

        assertEquals(bed.dir.resolve("versions/" + V0 + "/bin/t3"), Files.readSymbolicLink(bed.link()), "the binary is back on " + V0);
        try (StateStore store = StateStore.open(bed.stateDb())) {
            List<Event> events = store.events(Optional.empty(), 500);
            assertTrue(has(events, "health-check", BAD.toString(), "ok"), "the seed user's copy passed the health check");
            assertTrue(has(events, "canary", "t3c-alice@" + BAD, "ok"));
            assertTrue(has(events, "canary", "t3c-bob@" + BAD, "ok"));
            assertTrue(has(events, "canary", "t3c-carol@" + BAD, "failed"), "the canary caught carol's migration");
            long lostEverywhere = 0;
            for (String u : USERS) {
                assertTrue(has(events, "restore", u, "ok"), u + " restored, not only the user that failed");
                Event restore = events.stream().filter(e -> e.action().equals("restore") && e.target().equals(u)).findFirst().orElseThrow();
                Matcher m = RESTORED.matcher(restore.reason());
                assertTrue(m.find(), "the restore says what it restored, where the replaced database went and what it takes away: " + restore.reason());
                long expected = rowsNotIn(Path.of(m.group(2)).resolve(bed.database(u).getFileName()), bed.dir.resolve("backups").resolve(u).resolve(m.group(1)));
                assertEquals(expected, Long.parseLong(m.group(3)), u + ": the archived database has " + expected
                        + " projection rows the pre-bump backup lacks, and the restore must say exactly that: " + restore.reason());
                lostEverywhere += expected;
            }
            // The bed's servers write a row every 2 s, so rows written between backup and restore are really lost (to the archive).
            assertTrue(lostEverywhere > 0, "the count was exercised on rows really written after the backups, not only on 0");
            assertTrue(has(events, "finish-rollback", BAD.toString(), "ok"));
            assertTrue(store.blocked().contains(BAD));
            assertTrue(store.lastGood().filter(BAD::equals).isEmpty(), "a build that failed its canary never becomes last-good");
        }
        try (DbusUnits units = new DbusUnits(bed.bus(), Duration.ofSeconds(2))) {
            for (String u : USERS) assertTrue(units.status("t3-serve@" + u + ".service").active(), u + "'s server is up");
        }
        for (String u : USERS) {
            Path backup = preBumpBackup(u);
            assertEquals(migrations(backup), migrations(bed.database(u)), u + "'s schema is the pre-bump one");
            assertTrue(threads(bed.database(u)).containsAll(threads(backup)), u + " keeps every thread of the backup");
            Path archive = bed.dir.resolve("backups").resolve(u).resolve("archive");
            try (var s = Files.list(archive)) {
                assertTrue(s.findAny().isPresent(), u + "'s replaced database is archived, not deleted");
            }
        }
    }

    /** "restored FILE; replaced database archived at DIR; N projection rows ..." */
    static final Pattern RESTORED = Pattern.compile("restored (\\S+); replaced database archived at (\\S+); (-?\\d+) projection rows");

    /**
     * Counted here, independently of the controller: rows of the archived database's projection tables whose rowid
     * the backup's same table lacks (all of a table the backup does not have). Read from a scratch copy with its WAL,
     * so the archive itself is not touched.
     */
    static long rowsNotIn(Path archived, Path backup) throws Exception {
        Path scratch = Files.createTempDirectory(bed.dir, "loss-");
        Path db = scratch.resolve("current.sqlite");
        Files.copy(archived, db);
        Path wal = archived.resolveSibling(archived.getFileName() + "-wal");
        if (Files.exists(wal)) Files.copy(wal, scratch.resolve("current.sqlite-wal"));
        long lost = 0;
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); var s = c.createStatement()) {
            s.execute("ATTACH 'file:" + backup + "?mode=ro' AS bak");
            Set<String> backupTables = new TreeSet<>();
            try (ResultSet r = s.executeQuery("SELECT name FROM bak.sqlite_schema WHERE type = 'table'")) {
                while (r.next()) backupTables.add(r.getString(1));
            }
            List<String> tables = new java.util.ArrayList<>();
            try (ResultSet r = s.executeQuery("SELECT name FROM main.sqlite_schema WHERE type = 'table' AND name LIKE 'projection%'")) {
                while (r.next()) tables.add(r.getString(1));
            }
            for (String t : tables) {
                String sql = backupTables.contains(t)
                        ? "SELECT count(*) FROM main.\"" + t + "\" WHERE rowid NOT IN (SELECT rowid FROM bak.\"" + t + "\")"
                        : "SELECT count(*) FROM main.\"" + t + "\"";
                try (ResultSet r = s.executeQuery(sql)) {
                    r.next();
                    lost += r.getLong(1);
                }
            }
        }
        return lost;
    }

    private static boolean has(List<Event> events, String action, String target, String outcome) {
        return events.stream().anyMatch(e -> e.action().equals(action) && e.target().equals(target) && e.outcome().equals(outcome));
    }

    private static Path preBumpBackup(String user) throws Exception {
        return new t3.reconciler.controller.actuator.backup.SqliteBackups(bed.dir.resolve("backups")).list(user).stream()
                .filter(b -> b.verified() && b.version().equals(V0)).findFirst().orElseThrow().path();
    }

    private static Set<String> migrations(Path db) throws Exception { return column(db, "SELECT migration_id FROM effect_sql_migrations"); }

    private static Set<String> threads(Path db) throws Exception { return column(db, "SELECT id FROM projection_threads"); }

    private static Set<String> column(Path db, String sql) throws Exception {
        Set<String> out = new TreeSet<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + db + "?mode=ro"); ResultSet r = c.createStatement().executeQuery(sql)) {
            while (r.next()) out.add(r.getString(1));
        }
        return out;
    }
}
