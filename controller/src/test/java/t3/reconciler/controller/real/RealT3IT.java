package t3.reconciler.controller.real;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import t3.reconciler.controller.actuator.HealthCheck;
import t3.reconciler.controller.actuator.UnitStatus;
import t3.reconciler.controller.actuator.backup.SqliteBackups;
import t3.reconciler.controller.actuator.health.HttpHealthCheck;
import t3.reconciler.controller.actuator.health.HttpPairing;
import t3.reconciler.controller.actuator.npm.NpmPackages;
import t3.reconciler.controller.actuator.systemd.CgroupBusyProbe;
import t3.reconciler.controller.actuator.systemd.DbusUnits;
import t3.reconciler.controller.cli.Main;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.DesiredStateLoader;
import t3.reconciler.model.User;
import t3.reconciler.model.Version;

/**
 * Issue 18: the gates against the real t3 (0.0.33, built from source; 0.0.34 is the same build with migration 41
 * appended by testbed/real-t3.sh), on one shared bed because each real server costs about 250 MB and 5 s. The methods
 * run in order and tell one story: the real package installs as install.user with its scripts; a user's real server
 * gets data through its own API; the health check passes on a copy of that database; the canary pairs with the cookie
 * name the server announces; an agent under the real server makes the user busy; then a bump to 0.0.34 migrates the
 * live database and a deliberate downgrade restores the one the real server had before.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RealT3IT {
    static final String USER = "t3rr-ann";
    static final String UNIT = "t3-serve@" + USER + ".service";
    static final Version REAL = Version.parse("0.0.33");
    static final Version DERIVED = Version.parse("0.0.34");
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

    static RealBed bed;
    static DesiredState spec;
    static Path installed34;
    static String sessionId;

    @BeforeAll
    static void up() throws Exception {
        bed = RealBed.fresh(USER);
        spec = DesiredStateLoader.load(bed.spec);
    }

    @AfterAll
    static void down() throws Exception {
        if (bed != null) {
            bed.agent(USER, false);
            bed.close();
        }
    }

    @Test
    @Order(1)
    void realPackageInstallsAsTheCandidateAccountWithItsScriptsAndItsPtyWorks() throws Exception {
        Path prefix = bed.dir.resolve("aside/" + DERIVED);
        Files.createDirectories(prefix.getParent());
        NpmPackages npm = NpmPackages.from(spec.install());
        npm.install("t3", DERIVED, prefix);
        assertEquals(Optional.of(DERIVED), npm.installedVersion("t3", prefix), "t3 --version, run as the candidate on Node 24");
        installed34 = prefix.resolve("bin/t3");

        // node-pty's native module is what --ignore-scripts would leave unprepared: it loads and opens a pty, as the
        // candidate account, on the node install.npm runs on.
        Path pty = prefix.resolve("lib/node_modules/t3/node_modules/node-pty");
        assertTrue(Files.isRegularFile(pty.resolve("prebuilds/linux-x64/pty.node")), "node-pty's linux-x64 binary is in place");
        String js = "const p=require(process.argv[1]).spawn('/bin/echo',['pty-ok'],{});let o='';p.onData(d=>o+=d);"
                + "p.onExit(e=>{process.stdout.write(o.trim()+' exit='+e.exitCode+' uid='+process.getuid());});";
        String out = run(List.of("/usr/bin/setpriv", "--reuid=" + spec.install().user(), "--regid=" + spec.install().user(), "--clear-groups", "--",
                RealBed.nodeBin().resolve("node").toString(), "-e", js, pty.toString()));
        assertTrue(out.startsWith("pty-ok exit=0 uid="), "a pty opened through the installed node-pty as " + spec.install().user() + ": " + out);
        assertFalse(out.endsWith("uid=0"), "not as root: " + out);
    }

    @Test
    @Order(2)
    void userGetsDataThroughTheRealServersApi() throws Exception {
        URI base = URI.create("http://127.0.0.1:" + port() + "/");
        // Through the real API: a credential minted by the real CLI as the user, exchanged for a session cookie.
        JsonNode minted = JSON.readTree(lastJsonLine(run(List.of("/usr/bin/setpriv", "--reuid=" + USER, "--regid=" + USER, "--init-groups", "--",
                "/usr/bin/env", "-i", "HOME=" + bed.dir.resolve("home/" + USER), "PATH=" + RealBed.nodeBin() + ":/usr/bin:/bin", "T3CODE_TELEMETRY_ENABLED=false",
                bed.link().toString(), "auth", "pairing", "create", "--base-dir", bed.baseDir(USER).toString(), "--json"))));
        String credential = minted.get("credential").asText();
        assertEquals(5, minted.get("scopes").size(), "0.0.33 grants five scopes: " + minted.get("scopes"));

        String cookieName = JSON.readTree(get(base.resolve("/api/auth/session"), Optional.empty()).body()).path("auth").path("sessionCookieName").asText();
        assertTrue(cookieName.matches("t3_session_" + port() + "_[0-9a-f]{12}"), "the loopback cookie name: " + cookieName);
        HttpResponse<String> exchanged = post(base.resolve("/api/auth/browser-session"), "{\"credential\":\"" + credential + "\"}");
        assertEquals(200, exchanged.statusCode(), exchanged.body());
        String cookie = exchanged.headers().allValues("set-cookie").stream().filter(c -> c.startsWith(cookieName + "=")).findFirst()
                .orElseThrow(() -> new AssertionError("no Set-Cookie " + cookieName)).split(";", 2)[0];
        assertTrue(JSON.readTree(get(base.resolve("/api/auth/session"), Optional.of(cookie)).body()).path("authenticated").asBoolean(), "the cookie is a session");
        assertEquals(401, post(base.resolve("/api/auth/browser-session"), "{\"credential\":\"" + credential + "\"}").statusCode(), "a credential is single-use");
        assertEquals(404, post(base.resolve("/api/auth/bootstrap"), "{\"credential\":\"x\"}").statusCode(), "0.0.33 has no /api/auth/bootstrap");

        sessionId = query(bed.database(USER), "SELECT session_id FROM auth_sessions ORDER BY issued_at DESC LIMIT 1");
        assertEquals("40", query(bed.database(USER), "SELECT max(migration_id) FROM effect_sql_migrations"), "the real server migrated to 40");
    }

    @Test
    @Order(3)
    void healthCheckPassesOnACopyOfTheRealDatabase() throws Exception {
        BackupInfo backup = new SqliteBackups(bed.dir.resolve("aside/backups")).backup(USER, bed.database(USER), REAL);
        Instant t0 = Instant.now();
        HealthCheck.Result r = new HttpHealthCheck(spec.install().user(), spec.install().npm()).check(installed34, backup.path(), spec.healthCheck());
        Duration took = Duration.between(t0, Instant.now());
        assertTrue(r.passed(), r.gate() + ": " + r.detail());
        assertTrue(r.detail().contains("through /api/auth/browser-session") && r.detail().matches(".*cookie t3_session_\\d+_[0-9a-f]{12} .*"), r.detail());
        System.out.println("real health check of " + DERIVED + " on a copy of a real " + REAL + " database took " + took.toMillis() + " ms");
    }

    @Test
    @Order(4)
    void canaryPairsWithTheAnnouncedCookieName() throws Exception {
        HealthCheck.Result r = new HttpPairing().verify(User.of(USER), unit().mainPid(), bed.baseDir(USER), bed.link(), spec);
        assertTrue(r.passed(), r.gate() + ": " + r.detail());
        assertTrue(r.detail().contains("cookie t3_session_" + port() + "_"), "the announced loopback name, not t3_session: " + r.detail());
    }

    @Test
    @Order(5)
    void anAgentUnderTheRealServerMakesItsUserBusy() throws Exception {
        CgroupBusyProbe probe = new CgroupBusyProbe();
        Pattern busy = spec.canary().busyPattern();
        assertEquals(List.of(), probe.busyProcesses(unit(), busy), "the real server's own tree is not an agent");

        bed.agent(USER, true);
        restart();
        List<String> found = awaitBusy(probe, busy, true);
        assertTrue(found.stream().anyMatch(c -> c.contains("claude")), "the agent the real server started: " + found);

        bed.agent(USER, false);
        assertEquals(List.of(), awaitBusy(probe, busy, false), "idle again once the agent ended");
    }

    @Test
    @Order(6)
    void bumpToTheDerivedBuildMigratesThenDowngradeRestoresTheRealDatabase() throws Exception {
        String marker = "PRAGMA table_info(projection_threads)";
        assertFalse(columns(marker).contains("t3r_bed_marker"));
        long before = unit().mainPid();

        pin(DERIVED);
        assertEquals(Main.OK, Main.run("run", "--once", "-f", bed.spec.toString()), "a good bump between two real servers converges");
        assertEquals(bed.dir.resolve("versions/" + DERIVED + "/bin/t3"), Files.readSymbolicLink(bed.link()));
        assertTrue(unit().mainPid() != before, "the user was restarted onto " + DERIVED);
        assertEquals("41", query(bed.database(USER), "SELECT max(migration_id) FROM effect_sql_migrations"), "the real server ran migration 41 on the live database");
        assertTrue(columns(marker).contains("t3r_bed_marker"));
        assertEquals(sessionId, query(bed.database(USER), "SELECT session_id FROM auth_sessions WHERE session_id = '" + sessionId + "'"), "the user's data came along");

        pin(REAL);
        assertEquals(Main.OK, Main.run("run", "--once", "-f", bed.spec.toString()), "the deliberate downgrade converges");
        assertEquals(bed.dir.resolve("versions/" + REAL + "/bin/t3"), Files.readSymbolicLink(bed.link()));
        assertEquals("40", query(bed.database(USER), "SELECT max(migration_id) FROM effect_sql_migrations"), "the database from before the bump is back");
        assertFalse(columns(marker).contains("t3r_bed_marker"));
        assertEquals(sessionId, query(bed.database(USER), "SELECT session_id FROM auth_sessions WHERE session_id = '" + sessionId + "'"));
        assertEquals(Main.OK, Main.run("run", "--once", "-f", bed.spec.toString()), "and stays converged");
        assertTrue(new HttpPairing().verify(User.of(USER), unit().mainPid(), bed.baseDir(USER), bed.link(), spec).passed(), "0.0.33 serves the restored database");
    }

    // --- helpers ---

    static void pin(Version v) throws Exception {
        String yaml = Files.readString(bed.spec).replaceAll("(?m)^pin: .*\\n", "");
        Files.writeString(bed.spec, "pin: " + v + "\n" + yaml);
    }

    static UnitStatus unit() throws Exception {
        try (DbusUnits units = new DbusUnits(bed.bus())) {
            return units.status(UNIT);
        }
    }

    static void restart() throws Exception {
        try (DbusUnits units = new DbusUnits(bed.bus())) {
            units.restart(UNIT, Duration.ofMinutes(1));
        }
    }

    static int port() throws Exception {
        return Integer.parseInt(Files.readString(bed.dir.resolve("systemd/ports/" + USER + ".env")).replaceAll("(?s).*PORT=(\\d+).*", "$1"));
    }

    /** Polls the probe until it says {@code busy} (the agent starts with the server, seconds after the restart). */
    static List<String> awaitBusy(CgroupBusyProbe probe, Pattern pattern, boolean busy) throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
        long pause = 20;
        while (true) {
            List<String> found = probe.busyProcesses(unit(), pattern);
            if (found.isEmpty() != busy || Instant.now().isAfter(deadline)) return found;
            // Waiting on the server's exit is the pause between polls: a server that dies ends it at once.
            Optional<ProcessHandle> server = ProcessHandle.of(unit().mainPid());
            if (server.isEmpty()) return found;
            try {
                server.get().onExit().get(pause, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                // still serving: poll again
            }
            pause = Math.min(pause * 2, 500);
        }
    }

    static List<String> columns(String pragma) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + bed.database(USER) + "?mode=ro"); Statement s = c.createStatement();
             ResultSet r = s.executeQuery(pragma)) {
            List<String> out = new java.util.ArrayList<>();
            while (r.next()) out.add(r.getString("name"));
            return out;
        }
    }

    static String query(Path db, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + db + "?mode=ro"); Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
            return r.next() ? r.getString(1) : null;
        }
    }

    static HttpResponse<String> get(URI uri, Optional<String> cookie) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET();
        cookie.ifPresent(c -> b.header("Cookie", c));
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> post(URI uri, String json) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static String lastJsonLine(String out) {
        // --json prints the object over several lines: from the first '{' at a line start to the end.
        int i = out.indexOf("\n{");
        return out.startsWith("{") ? out : out.substring(i + 1);
    }

    static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) throw new AssertionError(cmd.get(0) + " failed: " + out);
        return out.strip();
    }
}
