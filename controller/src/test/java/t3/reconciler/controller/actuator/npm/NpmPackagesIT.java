package t3.reconciler.controller.actuator.npm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.ServerSocket;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.testbed.RegistryBed;
import t3.reconciler.controller.testbed.RegistryBed.Flavor;
import t3.reconciler.model.Channel;
import t3.reconciler.model.Version;

/** NpmPackages against a real registry holding the stand-in. */
class NpmPackagesIT {
    static final String PKG = RegistryBed.PACKAGE;
    static final Path NPM = RegistryBed.npm();
    static String account;

    @TempDir static Path shared;
    static RegistryBed bed;
    static NpmPackages npm;

    @BeforeAll
    static void registry() throws Exception {
        account = RegistryBed.candidateAccount();
        bed = RegistryBed.start(shared.resolve("registry"));
        bed.publish("0.0.24", Flavor.GOOD, RegistryBed.DEFAULT_SCHEMA, "latest")
                .publish("0.0.25-nightly.20260608.497", Flavor.GOOD, RegistryBed.DEFAULT_SCHEMA, "nightly")
                .publish("0.0.25-nightly.20260609.501", Flavor.GOOD, 5);
        npm = new NpmPackages(NPM, Optional.of(bed.url()), Duration.ofMinutes(2), account);
    }

    @AfterAll
    static void stop() {
        if (bed != null) bed.close();
    }

    @Test
    void resolveFollowsTheTagForwardAndBackward() throws Exception {
        assertEquals(Version.parse("0.0.24"), npm.resolve(PKG, Channel.LATEST));
        assertEquals(Version.parse("0.0.25-nightly.20260608.497"), npm.resolve(PKG, Channel.NIGHTLY));

        bed.tag("0.0.25-nightly.20260609.501", "nightly");
        assertEquals(Version.parse("0.0.25-nightly.20260609.501"), npm.resolve(PKG, Channel.NIGHTLY));

        // A tag moved back resolves back: refusing a downgrade is the planner's call, not the registry client's.
        bed.tag("0.0.25-nightly.20260608.497", "nightly");
        assertEquals(Version.parse("0.0.25-nightly.20260608.497"), npm.resolve(PKG, Channel.NIGHTLY));
    }

    @Test
    void installThenInstalledVersionReadsTheBinary(@TempDir Path tmp) throws Exception {
        Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x")); // the candidate account runs it
        Path prefix = tmp.resolve("0.0.24");
        assertEquals(Optional.empty(), npm.installedVersion(PKG, prefix));
        npm.install(PKG, Version.parse("0.0.24"), prefix);
        assertTrue(Files.isExecutable(prefix.resolve("bin/t3")));
        assertEquals(Optional.of(Version.parse("0.0.24")), npm.installedVersion(PKG, prefix));
    }

    @Test
    void aVersionTheRegistryDoesNotHaveIsAVerdict(@TempDir Path tmp) throws Exception {
        Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        ActuatorException e = assertThrows(ActuatorException.class, () -> npm.install(PKG, Version.parse("9.9.9"), tmp.resolve("p")));
        assertTrue(!e.isTransient(), e.getMessage());
    }

    @Test
    void aRegistryThatStopsAnsweringIsNeverAnsweredFromACache(@TempDir Path tmp) throws Exception {
        URI url;
        try (RegistryBed gone = RegistryBed.start(tmp.resolve("registry"))) {
            gone.publish("0.0.24", Flavor.GOOD, RegistryBed.DEFAULT_SCHEMA, "latest");
            url = gone.url();
            assertEquals(Version.parse("0.0.24"), new NpmPackages(NPM, Optional.of(url), Duration.ofMinutes(2), account).resolve(PKG, Channel.LATEST));
        }
        // The same address now accepts connections (the kernel's backlog) and never answers: npm, given the chance,
        // answers from the packument it cached a moment ago, as if the tag had not moved.
        try (ServerSocket silent = new ServerSocket(url.getPort(), 16, InetAddress.getLoopbackAddress())) {
            NpmPackages client = new NpmPackages(NPM, Optional.of(url), Duration.ofSeconds(4), account);
            ActuatorException e = assertThrows(ActuatorException.class, () -> client.resolve(PKG, Channel.LATEST),
                    "a registry that does not answer must not resolve to a cached version");
            assertTrue(e.isTransient(), e.getMessage());
        }
    }

    @Test
    void aDeadRegistryFailsFastAsTransient(@TempDir Path tmp) throws Exception {
        URI dead;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            dead = URI.create("http://127.0.0.1:" + s.getLocalPort() + "/");
        } // closed: connections are refused from here on
        // The process bound is far below npm's default retry schedule (~70 s): passing at all proves it fails fast.
        NpmPackages offline = new NpmPackages(NPM, Optional.of(dead), Duration.ofSeconds(20), account);
        ActuatorException resolve = assertThrows(ActuatorException.class, () -> offline.resolve(PKG, Channel.LATEST));
        assertTrue(resolve.isTransient(), resolve.getMessage());
        assertTrue(resolve.getMessage().contains("ECONNREFUSED"), resolve.getMessage());
        Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        ActuatorException install = assertThrows(ActuatorException.class, () -> offline.install(PKG, Version.parse("0.0.24"), tmp.resolve("p")));
        assertTrue(install.isTransient(), install.getMessage());
    }

    @Test
    void aRegistryAnsweringAnInvalidVersionIsRefused(@TempDir Path tmp) throws Exception {
        // A second bed whose stored metadata lies: the tag points at an entry whose version is a shell command.
        try (RegistryBed liar = RegistryBed.start(tmp.resolve("liar"))) {
            liar.publish("0.0.1", Flavor.GOOD, RegistryBed.DEFAULT_SCHEMA, "latest");
            ObjectMapper json = new ObjectMapper();
            ObjectNode doc = (ObjectNode) json.readTree(liar.packument().toFile());
            ((ObjectNode) doc.path("versions").path("0.0.1")).put("version", "0.0.1; rm -rf /");
            json.writeValue(liar.packument().toFile(), doc);

            NpmPackages client = new NpmPackages(NPM, Optional.of(liar.url()), Duration.ofMinutes(1), account);
            ActuatorException e = assertThrows(ActuatorException.class, () -> client.resolve(PKG, Channel.LATEST));
            assertTrue(!e.isTransient(), e.getMessage());
            assertTrue(e.getMessage().contains("invalid version"), e.getMessage());
        }
    }

    @Test
    void packageNamesThatCouldBeOptionsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> npm.resolve("--registry=http://evil/", Channel.LATEST));
        assertThrows(IllegalArgumentException.class, () -> npm.resolve("t3 && true", Channel.LATEST));
        assertEquals("t3", new PackageName("@t3tools/t3").binName());
    }
}
