package t3.reconciler.controller.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.actuator.HealthCheck;
import t3.reconciler.controller.actuator.health.HttpHealthCheck;
import t3.reconciler.controller.actuator.health.Specs;
import t3.reconciler.controller.actuator.npm.NpmPackages;
import t3.reconciler.controller.actuator.npm.SymlinkReleases;
import t3.reconciler.controller.testbed.RegistryBed;
import t3.reconciler.controller.testbed.RegistryBed.Flavor;
import t3.reconciler.model.Version;

/**
 * Issue 12, item 4: candidate code never runs as root. A stand-in build that records the uid of its npm
 * {@code preinstall} script, {@code --version}, {@code serve} and {@code auth pairing create} goes through the
 * controller's own install ({@link NpmPackages} into {@link SymlinkReleases}' prefix) and health check; each part
 * must have run as the candidate account, none as root, and the release must be root's with nothing setuid or
 * writable by others. A second build's install script leaves a process that keeps trying to change the release.
 */
class CandidateNeverRootIT {
    @TempDir static Path shared;
    static RegistryBed bed;
    static NpmPackages npm;
    static String account;
    static int candidateUid;
    static SymlinkReleases releases;
    static Path seed;

    @BeforeAll
    static void registry() throws Exception {
        Hostile.requireRoot();
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxr-xr-x")); // the candidate runs what is below
        account = RegistryBed.candidateAccount();
        candidateUid = Hostile.uid(account);
        bed = RegistryBed.start(shared.resolve("registry"));
        npm = new NpmPackages(RegistryBed.npm(), Optional.of(bed.url()), Duration.ofMinutes(2), account);
        releases = new SymlinkReleases(shared.resolve("versions"), shared.resolve("bin/t3"), RegistryBed.PACKAGE);
        seed = Files.createFile(shared.resolve("seed.sqlite")); // an empty database: the build creates its schema
    }

    @AfterAll
    static void stop() {
        if (bed != null) bed.close();
    }

    static Version fresh() { return Version.parse("0.9." + ThreadLocalRandom.current().nextInt(1_000_000)); }

    HealthCheck.Result healthCheck(Version v) throws Exception {
        Path scratch = Files.createDirectories(shared.resolve("scratch"));
        return new HttpHealthCheck(account).check(releases.binaryOf(v), seed, Specs.healthCheck(scratch));
    }

    @Test
    void installScriptVersionServerAndMinterRunAsTheCandidateAccount() throws Exception {
        Version v = fresh();
        Records records = new Records(RegistryBed.recordDir(v.toString()));
        bed.publish(v.toString(), Flavor.RECORD_UID, RegistryBed.DEFAULT_SCHEMA);

        npm.install(RegistryBed.PACKAGE, v, releases.prefixOf(v));
        assertEquals(Optional.of(v), npm.installedVersion(RegistryBed.PACKAGE, releases.prefixOf(v)));
        releases.markComplete(v);
        HealthCheck.Result r = healthCheck(v); // port 0: a port picked for the server, and its own socket found
        assertTrue(r.passed(), r.toString());

        Map<String, Set<Integer>> ran = records.uids();
        for (String part : List.of("preinstall", "version", "serve", "mint")) {
            assertEquals(Set.of(candidateUid), ran.get(part), part + " ran as uid " + ran.get(part) + ", not only as " + account + " (" + candidateUid + "); all: " + ran);
        }
        assertEquals(List.of(), InstalledTree.unsafeEntries(releases.prefixOf(v)), "the release is root's, nothing setuid or writable by others");
        try (var left = Files.list(shared.resolve("versions"))) {
            assertEquals(List.of(), left.filter(p -> p.getFileName().toString().startsWith(".")).toList(), "no staging dir left beside the release");
        }
    }

    @Test
    void aProcessLeftByAnInstallScriptDiesWithTheInstall() throws Exception {
        Version v = fresh();
        Records records = new Records(RegistryBed.recordDir(v.toString()));
        bed.publish(v.toString(), Flavor.LINGER_INSTALL, RegistryBed.DEFAULT_SCHEMA);

        npm.install(RegistryBed.PACKAGE, v, releases.prefixOf(v));
        Path prefix = releases.prefixOf(v);
        Map<String, String> installed = InstalledTree.snapshot(prefix);

        List<Records.Run> lingerers = records.runs().stream().filter(run -> run.what().equals("linger")).toList();
        assertEquals(1, lingerers.size(), "the install script left its process: " + records.runs());
        long pid = lingerers.get(0).pid();
        assertEquals(candidateUid, lingerers.get(0).uid(), "it ran as the candidate account");
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "the process the install script left (pid " + pid + ") is dead once install returns");
        assertEquals(List.of(), InstalledTree.unsafeEntries(prefix), "the release is root's, nothing setuid or writable by others");

        // The lingerer wrote every 20 ms while alive; a check's worth of time later the release is as it was.
        assertEquals(Optional.of(v), npm.installedVersion(RegistryBed.PACKAGE, prefix));
        releases.markComplete(v);
        assertTrue(healthCheck(v).passed());
        Map<String, String> later = InstalledTree.snapshot(prefix);
        later.remove(SymlinkReleases.MARKER);
        assertEquals(installed, later, "nothing changed the release after the install");
    }
}
