package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import t3.reconciler.controller.actuator.UnitStatus;
import t3.reconciler.controller.actuator.backup.SqliteBackups;
import t3.reconciler.controller.actuator.systemd.DbusUnits;
import t3.reconciler.controller.cli.Main;
import t3.reconciler.controller.store.Event;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.Version;

/**
 * Issue 15 on the real bed: a build that migrates the database and then dies under systemd is activated; two users'
 * units are restarted outside the controller (an operator, a reboot) and go down on it, the canary fails on the third.
 * The rollback restores all three, who are down, as one batch: each database back on the old schema, every server
 * answering on the old build. Also what the batch relies on: systemd keeps a failed unit's ExecMainStartTimestamp, so
 * the observer can tell it was started on the failed build.
 */
class RestoreDownIT {
    static final String A = "t3rr-alice", B = "t3rr-bob", C = "t3rr-carol";
    static final String[] USERS = {A, B, C};
    static final Version V0 = Version.parse("0.0.25-nightly.20260601.1");
    static final Version BAD = Version.parse("0.0.25-nightly.20260608.9");
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
    void usersDownOnAFailedBuildAreRestoredTogether() throws Exception {
        assertEquals(Main.OK, Main.run("run", "--once", "-f", bed.spec.toString()), "the bed converges on " + V0);
        bed.publish(BAD.toString(), "migrate-then-crash-under-systemd", "nightly");
        // The controller dies right after the link moved to BAD (a crash, as the crash matrix does it), so that others can
        // restart units onto BAD before any canary: a subprocess, since the crash point halts its JVM.
        assertEquals(137, controller("after-activate", "crash"), "the controller dies right after switching the link");
        assertEquals(bed.dir.resolve("versions/" + BAD + "/bin/t3"), Files.readSymbolicLink(bed.link()));

        // alice's and bob's units restarted outside the controller: BAD migrates their databases and exits.
        for (String u : List.of(A, B)) {
            assertTrue(bed.waitRestart(unit(u)).orElseThrow(() -> new AssertionError("systemctl --wait restart " + unit(u) + " did not return in 60 s")) != 0,
                    u + "'s server exits on " + BAD);
            assertEquals("5", newestMigration(bed.database(u)), u + "'s database was migrated by " + BAD);
        }
        try (DbusUnits units = new DbusUnits(bed.bus(), Duration.ofSeconds(2))) {
            for (String u : List.of(A, B)) {
                UnitStatus s = units.status(unit(u));
                assertTrue(!s.active(), u + " is down: " + s);
                assertTrue(s.execMainStart().isPresent(), "systemd keeps the start of a unit whose process exited: " + s);
            }
        }

        assertEquals(Main.REFUSED, controller(null, "rollback"), "the pass ends held by the open breaker");

        assertEquals(bed.dir.resolve("versions/" + V0 + "/bin/t3"), Files.readSymbolicLink(bed.link()), "the binary is back on " + V0);
        try (StateStore store = StateStore.open(bed.stateDb())) {
            List<Event> events = store.events(Optional.empty(), 500);
            assertTrue(has(events, "canary", C + "@" + BAD, "failed"), "the canary failed on carol");
            for (String u : USERS) assertTrue(has(events, "restore", u, "ok"), u + " restored: " + events);
            assertTrue(has(events, "finish-rollback", BAD.toString(), "ok"));
        }
        String log = Files.readString(bed.dir.resolve("runs/rollback.log"));
        assertTrue(log.lines().anyMatch(l -> l.contains("\"event\":\"batch\"") && l.contains("\"action\":\"restore-down\"") && l.contains(A + "," + B + "," + C)),
                "one batch restored the three who were down; log: " + log);
        try (DbusUnits units = new DbusUnits(bed.bus(), Duration.ofSeconds(2))) {
            for (String u : USERS) assertTrue(units.status(unit(u)).active(), u + "'s server is up");
        }
        for (String u : USERS) {
            assertEquals("4", newestMigration(bed.database(u)), u + "'s database is back on " + V0 + "'s schema");
            assertEquals(newestMigration(preBumpBackup(u)), newestMigration(bed.database(u)));
            assertTrue(answers(u), u + "'s server answers GET /");
        }
    }

    /** {@code run --once} as a subprocess (with {@code T3R_CRASH_AT} unless null); its JSON log kept in {@code runs/NAME.log}. Returns its exit status. */
    private static int controller(String crashAt, String name) throws Exception {
        Path log = bed.dir.resolve("runs/" + name + ".log");
        Files.createDirectories(log.getParent());
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                "t3.reconciler.controller.cli.Main", "run", "--once", "-f", bed.spec.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("T3R_LOG", "json");
        pb.environment().remove("T3R_CRASH_AT");
        if (crashAt != null) pb.environment().put("T3R_CRASH_AT", crashAt);
        Process p = pb.start();
        if (!p.waitFor(240, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("run --once " + name + " did not end in 240 s; see " + log);
        }
        return p.exitValue();
    }

    private static boolean answers(String user) throws Exception {
        // The bed's unit serves on the port of its EnvironmentFile (testbed/systemd-bed.sh writes PORT=).
        for (String line : Files.readAllLines(bed.dir.resolve("systemd/ports").resolve(user + ".env"), StandardCharsets.UTF_8)) {
            if (!line.startsWith("PORT=")) continue;
            var c = (java.net.HttpURLConnection) new java.net.URL("http://127.0.0.1:" + line.substring(5).strip() + "/").openConnection();
            c.setConnectTimeout(5000);
            c.setReadTimeout(5000);
            try {
                return c.getResponseCode() == 200;
            } finally {
                c.disconnect();
            }
        }
        throw new AssertionError("no PORT= for " + user);
    }

    private static boolean has(List<Event> events, String action, String target, String outcome) {
        return events.stream().anyMatch(e -> e.action().equals(action) && e.target().equals(target) && e.outcome().equals(outcome));
    }

    private static Path preBumpBackup(String user) throws Exception {
        return new SqliteBackups(bed.dir.resolve("backups")).list(user).stream().filter(b -> b.verified() && b.version().equals(V0)).findFirst().orElseThrow().path();
    }

    private static String newestMigration(Path db) throws Exception {
        Set<Integer> ids = new TreeSet<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + db + "?mode=ro"); ResultSet r = c.createStatement().executeQuery("SELECT migration_id FROM effect_sql_migrations")) {
            while (r.next()) ids.add(r.getInt(1));
        }
        return ids.isEmpty() ? "none" : String.valueOf(((TreeSet<Integer>) ids).last());
    }

    private static String unit(String user) { return "t3-serve@" + user + ".service"; }
}
