package t3.reconciler.controller.actuator.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.actuator.HealthCheck.Result;
import t3.reconciler.controller.actuator.proc.Account;
import t3.reconciler.controller.actuator.proc.ProcessTree;
import t3.reconciler.controller.security.Hostile;
import t3.reconciler.controller.testbed.RegistryBed;
import t3.reconciler.controller.testbed.RegistryBed.Flavor;
import t3.reconciler.model.User;

/**
 * The canary's pairing proof against live {@code t3 serve} processes started here (plain processes, not units), each
 * run as a real local account, as its unit would: the credential is minted as the user the spec names.
 */
class HttpPairingIT {
    static final String USER = "t3sb-pairing";

    @TempDir static Path shared;
    static RegistryBed bed;
    static final Map<Flavor, Path> binaries = new EnumMap<>(Flavor.class);

    @TempDir Path tmp;
    final List<Process> started = new ArrayList<>();
    final HttpPairing pairing = new HttpPairing();
    final User alice = User.of(USER);
    static Account owner;

    @BeforeAll
    static void builds() throws Exception {
        // World-readable, so a server run as another user can execute the installed builds.
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxr-xr-x"));
        Hostile.requireRoot();
        Hostile.ensureUser(USER);
        owner = Account.unprivileged(USER);
        bed = RegistryBed.start(shared.resolve("registry"));
        Standins standins = new Standins(bed, shared.resolve("prefixes"));
        int patch = 40;
        for (Flavor f : List.of(Flavor.GOOD, Flavor.RENAMED_COOKIE, Flavor.LEGACY, Flavor.COOKIE_NOT_AUTHENTICATING)) {
            binaries.put(f, standins.install("0.0." + patch++, f, RegistryBed.DEFAULT_SCHEMA));
        }
    }

    @AfterAll
    static void stop() {
        if (bed != null) bed.close();
    }

    @AfterEach
    void stopServers() {
        for (Process p : started) ProcessTree.kill(p, Duration.ofSeconds(5));
    }

    /** A directory of the user's own under tmp, as their home would be. */
    Path home(String name) throws Exception {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path home = Files.createDirectories(tmp.resolve(name));
        Files.setAttribute(home, "unix:uid", owner.uid());
        Files.setAttribute(home, "unix:gid", owner.gid());
        return home;
    }

    /** A user's server as its unit would run it, as that user, on a port of its own choosing, which we are not told. */
    Process serve(Flavor f, Path baseDir) throws Exception {
        List<String> argv = new ArrayList<>(List.of("setpriv", "--reuid=" + owner.uid(), "--regid=" + owner.gid(), "--clear-groups", "--"));
        argv.addAll(List.of(binaries.get(f).toString(), "serve", "--host", "127.0.0.1", "--port", "0", "--base-dir", baseDir.toString()));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(tmp.resolve("serve-" + started.size() + ".log").toFile()).start();
        started.add(p);
        return p;
    }

    /** Until the server has a listening socket; waiting on its exit is the pause, so a crash ends the wait too. */
    static void awaitListening(Process server) throws Exception {
        for (int i = 0; i < 600 && ListeningSockets.of(server.pid()).isEmpty(); i++) {
            try {
                server.onExit().get(50, java.util.concurrent.TimeUnit.MILLISECONDS);
                throw new AssertionError("server exited with " + server.exitValue());
            } catch (java.util.concurrent.TimeoutException stillRunning) {
                // poll again
            }
        }
    }

    Result verify(Process server, Path baseDir, Flavor f, int attempts, Optional<URI> dispatch) throws Exception {
        return pairing.verify(alice, server.pid(), baseDir, binaries.get(f), Specs.desired(tmp, alice, attempts, dispatch));
    }

    @Test
    void pairsWithALiveServerFoundByItsSocket() throws Exception {
        Path base = home("alice").resolve(".t3");
        Process server = serve(Flavor.GOOD, base);
        // Attempts cover the moments before it listens, as right after a restart.
        Result r = verify(server, base, Flavor.GOOD, 50, Optional.empty());
        assertTrue(r.passed(), r.toString());
        assertTrue(r.detail().contains("cookie t3_session "), r.detail());
    }

    @Test
    void pairsWithNewerAndOlderBuilds() throws Exception {
        for (Flavor f : List.of(Flavor.RENAMED_COOKIE, Flavor.LEGACY)) {
            Path base = home(f.id()).resolve(".t3");
            Result r = verify(serve(f, base), base, f, 50, Optional.empty());
            assertTrue(r.passed(), f + ": " + r);
        }
    }

    @Test
    void aCookieThatIsNoSessionFailsAfterItsAttempts() throws Exception {
        Path base = home("alice").resolve(".t3");
        Process server = serve(Flavor.COOKIE_NOT_AUTHENTICATING, base);
        awaitListening(server);
        Result r = verify(server, base, Flavor.COOKIE_NOT_AUTHENTICATING, 3, Optional.empty());
        assertEquals("session", r.gate(), r.toString());
        assertTrue(r.detail().contains("after 3 attempts"), r.detail());
    }

    @Test
    void aProcessThatListensOnNothingFails() throws Exception {
        Process sleeper = new ProcessBuilder("sleep", "600").start();
        started.add(sleeper);
        Result r = pairing.verify(alice, sleeper.pid(), tmp, binaries.get(Flavor.GOOD), Specs.desired(tmp, alice, 2, Optional.empty()));
        assertFalse(r.passed());
        assertEquals("start", r.gate(), r.toString());
    }

    @Test
    void mintsAsTheUserSoNoRootFilesAppear() throws Exception {
        Path home = home("home");
        Path base = home.resolve(".t3");
        Process server = serve(Flavor.GOOD, base);

        Result r = verify(server, base, Flavor.GOOD, 50, Optional.empty());
        assertTrue(r.passed(), r.toString());
        try (Stream<Path> files = Files.walk(home)) {
            List<String> notTheirs = files.filter(p -> {
                try {
                    return (Integer) Files.getAttribute(p, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS) != owner.uid();
                } catch (java.io.IOException e) {
                    return true;
                }
            }).map(Path::toString).toList();
            assertEquals(List.of(), notTheirs, "every file in the user's base dir is theirs");
        }
    }

    @Test
    void throughADispatchTheFirstDocumentRequestGetsTheSessionCookie() throws Exception {
        Path base = home("alice").resolve(".t3");
        Process server = serve(Flavor.GOOD, base);
        // The dispatch needs the server's address; the direct verify finds it the way the canary would.
        assertTrue(verify(server, base, Flavor.GOOD, 50, Optional.empty()).passed());
        URI serverUrl = ListeningSockets.of(server.pid()).get(0).base();
        try (TinyDispatch dispatch = new TinyDispatch(Map.of(USER, new TinyDispatch.Route(serverUrl, binaries.get(Flavor.GOOD), base, owner)))) {
            Result r = verify(server, base, Flavor.GOOD, 2, Optional.of(dispatch.url()));
            assertTrue(r.passed(), r.toString());

            Result stranger = pairing.verify(User.of("mallory"), server.pid(), base, binaries.get(Flavor.GOOD),
                    Specs.desired(tmp, User.of("mallory"), 2, Optional.of(dispatch.url())));
            assertEquals("pairing", stranger.gate(), stranger.toString());
        }
    }
}
