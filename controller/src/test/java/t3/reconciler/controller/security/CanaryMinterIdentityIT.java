package t3.reconciler.controller.security;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.actuator.health.HttpPairing;
import t3.reconciler.controller.actuator.health.Specs;
import t3.reconciler.controller.actuator.npm.NpmPackages;
import t3.reconciler.controller.actuator.proc.ProcessTree;
import t3.reconciler.controller.testbed.RegistryBed;
import t3.reconciler.controller.testbed.RegistryBed.Flavor;
import t3.reconciler.model.User;
import t3.reconciler.model.Version;

/**
 * Issue 12, item 4: the canary's credential minter runs as the user the desired state names, whatever their base dir
 * ({@code ~/.t3}) is: a directory owned by someone else (root), or a link to one. Before the fix root became the owner
 * of that path (following the link), so a user could make root run the minter, as root, on a file of root's choosing.
 * The minter's uid is recorded by the build itself; the root file it was pointed at must be byte-identical.
 */
class CanaryMinterIdentityIT {
    static final String USER = "t3sb-canary";
    static final Version V = Version.parse("0.8.1");

    @TempDir static Path shared;
    static RegistryBed bed;
    static Path binary;
    static Records records;
    static int userUid;
    final List<Process> started = new ArrayList<>();

    @BeforeAll
    static void build() throws Exception {
        Hostile.requireRoot();
        userUid = Hostile.ensureUser(USER);
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxr-xr-x"));
        bed = RegistryBed.start(shared.resolve("registry"));
        records = new Records(RegistryBed.recordDir(V.toString()));
        bed.publish(V.toString(), Flavor.RECORD_UID, RegistryBed.DEFAULT_SCHEMA);
        new NpmPackages(RegistryBed.npm(), Optional.of(bed.url()), Duration.ofMinutes(2), RegistryBed.candidateAccount())
                .install(RegistryBed.PACKAGE, V, shared.resolve("versions").resolve(V.toString()));
        binary = shared.resolve("versions").resolve(V.toString()).resolve("bin/t3");
    }

    @AfterAll
    static void stop() {
        if (bed != null) bed.close();
    }

    @AfterEach
    void stopServers() {
        for (Process p : started) ProcessTree.kill(p, Duration.ofSeconds(5));
    }

    /** The user's own server, as their unit runs it (as them, a port of its choosing), on a base dir of theirs. */
    Process userServer(Path tmp) throws Exception {
        Path own = Files.createDirectories(tmp.resolve("own"));
        Files.setAttribute(own, "unix:uid", userUid);
        Process p = new ProcessBuilder(Hostile.as(USER, List.of(binary.toString(), "serve", "--host", "127.0.0.1", "--port", "0", "--base-dir", own.resolve(".t3").toString())))
                .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        started.add(p);
        // It logs once it listens: reading that line is the wait.
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        for (String line = out.readLine(); line != null; line = out.readLine()) {
            if (line.contains("Listening on")) return p;
        }
        throw new AssertionError("the user's server exited with " + p.waitFor());
    }

    /** A directory of root's holding a database root cares about: where the user points their base dir. */
    static Path rootsDir(Path tmp) throws Exception {
        Path victim = Files.createDirectories(tmp.resolve("roots/userdata"));
        Files.writeString(victim.resolve("state.sqlite"), "root's own file, not a database for t3\n");
        Files.setPosixFilePermissions(tmp.resolve("roots"), PosixFilePermissions.fromString("rwxr-xr-x"));
        return tmp.resolve("roots");
    }

    void mintAs(Path tmp, Path baseDir) throws Exception {
        records.clear();
        Process server = userServer(tmp);
        Path victim = rootsDir(tmp).resolve("userdata/state.sqlite");
        byte[] before = Files.readAllBytes(victim);
        User user = User.of(USER);
        new HttpPairing().verify(user, server.pid(), baseDir, binary, Specs.desired(tmp, user, 1, Optional.empty()));

        Map<String, Set<Integer>> ran = records.uids();
        assertEquals(Set.of(userUid), ran.get("mint"), "the minter ran as " + ran.get("mint") + ", not as " + USER + " (" + userUid + ")");
        assertArrayEquals(before, Files.readAllBytes(victim), "root's file is byte-identical");
        assertTrue(server.isAlive(), "the user's server was not signalled");
    }

    @Test
    void aBaseDirOwnedBySomeoneElseDoesNotChooseWhomTheMinterRunsAs(@TempDir Path tmp) throws Exception {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        mintAs(tmp, rootsDir(tmp));
    }

    @Test
    void aBaseDirThatIsALinkDoesNotChooseWhomTheMinterRunsAs(@TempDir Path tmp) throws Exception {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path home = Files.createDirectories(tmp.resolve("home"));
        Files.setAttribute(home, "unix:uid", userUid);
        // What the user does in their own home: ~/.t3 -> a directory of root's.
        Hostile.Result made = Hostile.runAs(USER, "ln", "-s", rootsDir(tmp).toString(), home.resolve(".t3").toString());
        assertTrue(made.ok(), made.output());
        mintAs(tmp, home.resolve(".t3"));
    }
}
