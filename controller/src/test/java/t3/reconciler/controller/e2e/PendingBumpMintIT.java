package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import t3.reconciler.controller.actuator.backup.SqliteBackups;
import t3.reconciler.controller.cli.Main;
import t3.reconciler.controller.store.Event;
import t3.reconciler.controller.store.StateStore;

/**
 * Issue 8.1, gate before exposure: while a bump is pending (the candidate installed in its own prefix, then also
 * health-checked, the controller stopped right there by a crash point), a credential minted the way the dispatch
 * mints it ({@code t3 auth pairing create} through the global link, as the user) never migrates the user's live DB.
 * The candidate here has two more migrations than the running build, and a control mint with the candidate's own
 * binary on a copy shows they would apply, so the assertion can fail.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PendingBumpMintIT {
    static final String USER = "t3l-mint";
    static final String V0 = "0.0.25-nightly.20260601.1";
    static final String CANDIDATE = "0.0.25-nightly.20260608.497";
    static final ObjectMapper JSON = new ObjectMapper();
    static Bed bed;
    static Set<String> before;

    @BeforeAll
    static void up() throws Exception {
        bed = Bed.fresh(USER);
        // The candidate's schema is 6 (the bed's build has 4): minting with it would add migrations 5 and 6.
        exec(List.of(Bed.repoRoot().resolve("testbed/registry.sh").toString(), "publish", bed.dir.resolve("registry").toString(), CANDIDATE, "good", "6", "nightly"), 120);
        before = migrations(bed.database(USER));
        assertEquals(4, before.size(), "the bed's build has schema 4: " + before);
    }

    @AfterAll
    static void down() throws Exception {
        if (bed != null) bed.close();
    }

    @Test
    @Order(1)
    void mintingWhileTheCandidateIsInstalledAsideLeavesTheLiveDatabaseAlone() throws Exception {
        assertEquals(137, controllerCrashingAt("after-install"), "the controller stops right after installing");
        assertTrue(Files.exists(bed.dir.resolve("versions/" + CANDIDATE + "/.t3-reconciler-complete")), "the candidate is installed in its own prefix");
        assertNotExposed();
    }

    @Test
    @Order(2)
    void mintingWhileTheHealthCheckedCandidateWaitsForTheSwitchLeavesTheLiveDatabaseAlone() throws Exception {
        assertEquals(137, controllerCrashingAt("before-activate"), "the controller stops after the health check, before the link switch");
        try (StateStore store = StateStore.open(bed.stateDb())) {
            List<Event> events = store.events(Optional.empty(), 500);
            assertTrue(events.stream().anyMatch(e -> e.action().equals("health-check") && e.target().equals(CANDIDATE) && e.outcome().equals("ok")),
                    "the candidate passed its health check: " + events);
            assertTrue(store.rollout().isPresent() && store.rollout().get().healthy(), "the bump is pending");
        }
        assertNotExposed();
    }

    @Test
    @Order(3)
    void theSameMintWithTheCandidatesBinaryWouldMigrate() throws Exception {
        // Control: on a copy of the user's pre-bump backup, the candidate's own binary applies its migrations.
        Path backup = new SqliteBackups(bed.dir.resolve("backups")).list(USER).stream().filter(b -> b.verified()).findFirst().orElseThrow().path();
        Path base = Files.createTempDirectory(bed.dir.resolve("scratch"), "control-");
        Files.createDirectories(base.resolve("userdata"));
        Files.copy(backup, base.resolve("userdata/state.sqlite"));
        exec(List.of(bed.dir.resolve("versions/" + CANDIDATE + "/bin/t3").toString(), "auth", "pairing", "create", "--base-dir", base.toString(), "--ttl", "5m", "--json"), 60);
        Set<String> migrated = migrations(base.resolve("userdata/state.sqlite"));
        assertEquals(6, migrated.size(), "the candidate would migrate a database it is pointed at: " + migrated);
    }

    @Test
    @Order(4)
    void theBumpThenFinishesAndOnlyThenMigrates() throws Exception {
        assertEquals(Main.OK, Main.run("run", "--once", "-f", bed.spec.toString()), "the pending bump finishes and converges");
        assertEquals(bed.dir.resolve("versions/" + CANDIDATE + "/bin/t3"), Files.readSymbolicLink(bed.link()));
        assertEquals(6, migrations(bed.database(USER)).size(), "after the gated switch and the canary, the live DB is on the candidate's schema");
    }

    /** Mint the way the dispatch does: the global link, as the user, on the user's base dir; then the live DB is unchanged. */
    static void assertNotExposed() throws Exception {
        assertEquals(bed.dir.resolve("versions/" + V0 + "/bin/t3"), Files.readSymbolicLink(bed.link()), "the global link still points at " + V0);
        String out = exec(List.of("setpriv", "--reuid=" + USER, "--regid=" + USER, "--init-groups", bed.link().toString(),
                "auth", "pairing", "create", "--base-dir", bed.dir.resolve("home/" + USER + "/.t3").toString(), "--ttl", "5m", "--json"), 60);
        JsonNode minted = JSON.readTree(out.substring(out.indexOf('{')));
        assertTrue(minted.path("credential").asText().length() > 0, "a credential was minted: " + out);
        assertEquals(before, migrations(bed.database(USER)), USER + "'s live DB keeps the running build's migrations");
    }

    /** {@code run --once} as its own process with a test-only crash point; returns its exit code. */
    static int controllerCrashingAt(String point) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path log = bed.dir.resolve("controller-" + point + ".log");
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "t3.reconciler.controller.cli.Main",
                "run", "--once", "-f", bed.spec.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("T3R_CRASH_AT", point);
        pb.environment().put("T3R_LOG", "json");
        Process p = pb.start();
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "the controller reaches " + point + "; see " + log);
        String out = Files.readString(log);
        assertTrue(out.contains("\"point\":\"" + point + "\""), "stopped at the crash point, not elsewhere:\n" + out);
        return p.exitValue();
    }

    static String exec(List<String> cmd, int seconds) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(seconds, TimeUnit.SECONDS), cmd + " finishes");
        assertEquals(0, p.exitValue(), cmd + ":\n" + out);
        return out;
    }

    static Set<String> migrations(Path db) throws Exception {
        Set<String> out = new TreeSet<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + db + "?mode=ro");
             ResultSet r = c.createStatement().executeQuery("SELECT migration_id FROM effect_sql_migrations")) {
            while (r.next()) out.add(r.getString(1));
        }
        return out;
    }
}
