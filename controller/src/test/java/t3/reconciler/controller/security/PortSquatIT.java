package t3.reconciler.controller.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.actuator.HealthCheck;
import t3.reconciler.controller.actuator.health.HttpHealthCheck;
import t3.reconciler.controller.actuator.health.Specs;
import t3.reconciler.controller.actuator.npm.NpmPackages;
import t3.reconciler.controller.actuator.proc.ProcessTree;
import t3.reconciler.controller.testbed.RegistryBed;
import t3.reconciler.controller.testbed.RegistryBed.Flavor;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.Version;

/**
 * Issue 12: the health check trusts only a listening socket of its own child. A local user takes the check's port
 * and answers like a healthy t3 (200 on {@code GET /}, a session API, a pairing that sets a cookie the session then
 * calls authenticated) while the candidate cannot even start: the check must fail at {@code start}. Before the fix
 * it asked whatever answered on the port, and passed.
 */
class PortSquatIT {
    static final String SQUATTER = "t3sb-squatter";
    /** Answers the whole handshake as a healthy build would; prints the port once it listens. */
    static final String FAKE_T3 = """
            const http = require('http');
            const auth = {policy: 'open', bootstrapMethods: ['pairing'], sessionMethods: ['cookie'], sessionCookieName: 't3_session'};
            const server = http.createServer((req, res) => {
              const json = (body, headers = {}) => { res.writeHead(200, {'content-type': 'application/json', ...headers}); res.end(JSON.stringify(body)); };
              req.resume();
              if (req.url === '/api/auth/session') return json({authenticated: (req.headers.cookie || '').includes('t3_session=squatted'), auth});
              if (req.method === 'POST') return req.on('end', () => json({ok: true}, {'set-cookie': 't3_session=squatted; Path=/; HttpOnly'}));
              res.writeHead(200, {'content-type': 'text/html'}); res.end('<!doctype html><title>t3</title>');
            });
            server.listen(Number(process.argv[2]), '127.0.0.1', () => console.log(server.address().port));
            """;

    @TempDir static Path shared;
    static RegistryBed bed;
    static String account;
    static Path crashing;
    static Path good;
    static Path seed;
    Process squatter;

    @BeforeAll
    static void builds() throws Exception {
        Hostile.requireRoot();
        Hostile.ensureUser(SQUATTER);
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxr-xr-x"));
        account = RegistryBed.candidateAccount();
        bed = RegistryBed.start(shared.resolve("registry"));
        NpmPackages npm = new NpmPackages(RegistryBed.npm(), Optional.of(bed.url()), Duration.ofMinutes(2), account);
        bed.publish("0.0.1", Flavor.CRASH_ON_START, RegistryBed.DEFAULT_SCHEMA).publish("0.0.2", Flavor.GOOD, RegistryBed.DEFAULT_SCHEMA);
        npm.install(RegistryBed.PACKAGE, Version.parse("0.0.1"), shared.resolve("versions/0.0.1"));
        npm.install(RegistryBed.PACKAGE, Version.parse("0.0.2"), shared.resolve("versions/0.0.2"));
        crashing = shared.resolve("versions/0.0.1/bin/t3");
        good = shared.resolve("versions/0.0.2/bin/t3");
        seed = Files.createFile(shared.resolve("seed.sqlite"));
        Files.writeString(shared.resolve("fake-t3.js"), FAKE_T3);
    }

    @AfterAll
    static void stop() {
        if (bed != null) bed.close();
    }

    @AfterEach
    void stopSquatter() {
        if (squatter != null) ProcessTree.kill(squatter, Duration.ofSeconds(5));
    }

    /** The squatter's server, as the attacking user, on {@code port} (0: any); returns the port it holds. */
    int squat(int port) throws Exception {
        squatter = new ProcessBuilder(Hostile.as(SQUATTER, List.of("/usr/bin/node", shared.resolve("fake-t3.js").toString(), Integer.toString(port))))
                .redirectError(ProcessBuilder.Redirect.DISCARD).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        // Its first line is printed once it listens: reading it is the wait.
        String line = new BufferedReader(new InputStreamReader(squatter.getInputStream(), StandardCharsets.UTF_8)).readLine();
        if (line == null) throw new AssertionError("the squatter did not start (exit " + squatter.waitFor() + ")");
        return Integer.parseInt(line.strip());
    }

    static DesiredState.HealthCheck onPort(Path scratch, int port) {
        DesiredState.HealthCheck h = Specs.healthCheck(scratch);
        return new DesiredState.HealthCheck(h.seedUser(), h.scratchDir(), port, h.pairingEndpoints(), Duration.ofSeconds(10), h.requestTimeout(), h.migrationFailurePatterns());
    }

    Path scratch() throws Exception {
        Path s = Files.createDirectories(shared.resolve("scratch"));
        Files.setAttribute(s, "unix:mode", 01777); // as /var/tmp: anyone may write here
        return s;
    }

    @Test
    void aHealthyLookingSquatterOnTheConfiguredPortDoesNotPassABuildThatCannotStart() throws Exception {
        int port = squat(freePort());
        HealthCheck.Result r = new HttpHealthCheck(account).check(crashing, seed, onPort(scratch(), port));
        assertFalse(r.passed(), "the squatter's answers passed a build that never started: " + r);
        assertEquals("start", r.gate(), r.toString());
        assertTrue(squatter.isAlive(), "the squatter's process (another user's) was not signalled");
    }

    @Test
    void aGoodBuildOnAPortTheCheckPicksStillPasses() throws Exception {
        HealthCheck.Result r = new HttpHealthCheck(account).check(good, seed, Specs.healthCheck(scratch()));
        assertTrue(r.passed(), r.toString());
    }

    @Test
    void aGoodBuildWhosePortIsTakenFailsRatherThanPassOnTheSquattersAnswers() throws Exception {
        int port = squat(freePort());
        HealthCheck.Result r = new HttpHealthCheck(account).check(good, seed, onPort(scratch(), port));
        assertEquals("start", r.gate(), r.toString());
        assertTrue(squatter.isAlive(), "the squatter's process (another user's) was not signalled");
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
