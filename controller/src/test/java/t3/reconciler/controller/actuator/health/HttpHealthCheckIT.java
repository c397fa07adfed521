package t3.reconciler.controller.actuator.health;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import t3.reconciler.controller.actuator.HealthCheck.Result;
import t3.reconciler.controller.testbed.RegistryBed;
import t3.reconciler.controller.testbed.RegistryBed.Flavor;
import t3.reconciler.model.DesiredState;

/** The health check on every stand-in flavor, installed from a real registry, seeded from real backups. */
class HttpHealthCheckIT {
    @TempDir static Path shared;
    static RegistryBed bed;
    static final Map<Flavor, Path> binaries = new EnumMap<>(Flavor.class);
    /** Made by the legacy build (schema 3) and holding a conversation: the forward migration runs on real rows. */
    static Path populatedSeed;
    static Path emptySeed;
    /** At schema 6: newer than every default build. */
    static Path newerSeed;

    @TempDir Path scratch;
    final HttpHealthCheck check = new HttpHealthCheck(DesiredState.Install.DEFAULT_USER);

    @BeforeAll
    static void builds() throws Exception {
        // Searchable: the candidate account runs the builds installed below it.
        Files.setPosixFilePermissions(shared, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        bed = RegistryBed.start(shared.resolve("registry"));
        Standins standins = new Standins(bed, shared.resolve("prefixes"));
        int patch = 20;
        for (Flavor f : Flavor.values()) binaries.put(f, standins.install("0.0." + patch++, f, RegistryBed.DEFAULT_SCHEMA));
        Path newest = standins.install("0.1.0", Flavor.GOOD, 6);

        populatedSeed = Standins.backup(Standins.database(binaries.get(Flavor.LEGACY), shared.resolve("alice"), 3), shared.resolve("seeds/populated.sqlite"));
        emptySeed = Files.createFile(shared.resolve("seeds/empty.sqlite")); // SQLite reads a zero-byte file as an empty database
        newerSeed = Standins.backup(Standins.database(newest, shared.resolve("bob"), 0), shared.resolve("seeds/newer.sqlite"));
    }

    @AfterAll
    static void stop() {
        if (bed != null) bed.close();
    }

    @org.junit.jupiter.api.BeforeEach
    void searchableScratch() throws Exception {
        Files.setPosixFilePermissions(scratch, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterEach
    void leavesNothingBehind() throws Exception {
        try (var left = Files.list(scratch)) {
            assertEquals(List.of(), left.toList(), "scratch dir removed");
        }
        assertEquals(List.of(), Standins.processesMentioning(scratch.toString()), "no server process left");
        assertEquals(List.of(), ProcessHandle.current().descendants().map(p -> p.pid() + " " + p.info().commandLine().orElse("?")).toList(),
                "no child process left");
    }

    Result check(Flavor f, Path seed) throws Exception {
        return check.check(binaries.get(f), seed, Specs.healthCheck(scratch));
    }

    @ParameterizedTest
    @EnumSource(value = Flavor.class, names = {"GOOD", "LEGACY", "RENAMED_COOKIE"})
    void workingBuildsPass(Flavor f) throws Exception {
        byte[] before = Files.readAllBytes(populatedSeed);
        Result r = check(f, populatedSeed);
        assertTrue(r.passed(), r.toString());
        assertEquals("all", r.gate());
        assertArrayEquals(before, Files.readAllBytes(populatedSeed), "the seed backup is only ever copied");
    }

    @Test
    void aRenamedCookieIsFoundFromTheSessionEndpoint() throws Exception {
        Result r = check(Flavor.RENAMED_COOKIE, populatedSeed);
        assertTrue(r.passed(), r.toString());
        assertTrue(r.detail().matches(".*cookie t3_session_\\d+_[0-9a-f]+ .*"), r.detail());
    }

    @ParameterizedTest(name = "{0} fails at {1}")
    @CsvSource({
            "MIGRATION_FAILS_POPULATED, migration",
            "ENDPOINT_RENAMED, pairing",
            "PAIRING_401, pairing",
            "CRASH_ON_START, start",
            "COOKIE_NOT_AUTHENTICATING, session",
            "MINT_FAILS, mint",
    })
    void brokenBuildsFailAtTheirGate(Flavor f, String gate) throws Exception {
        Result r = check(f, populatedSeed);
        assertEquals(gate, r.gate(), r.toString());
        assertTrue(!r.passed() && !r.detail().isBlank(), r.toString());
    }

    @Test
    void aHangingServerFailsToStartWithinItsBound() throws Exception {
        DesiredState.HealthCheck spec = Specs.healthCheck(scratch, Duration.ofSeconds(3), Duration.ofSeconds(1), Specs.MIGRATION_PATTERNS);
        Result r = check.check(binaries.get(Flavor.HANG), populatedSeed, spec);
        assertEquals("start", r.gate(), r.toString());
        assertTrue(r.detail().contains("did not answer 200"), r.detail());
    }

    @Test
    void aMigrationThatNeedsRowsToFailPassesOnAnEmptyDatabase() throws Exception {
        Result r = check(Flavor.MIGRATION_FAILS_POPULATED, emptySeed);
        assertTrue(r.passed(), r.toString());
    }

    @Test
    void aDatabaseNewerThanTheBuildFailsAtMigration() throws Exception {
        Result r = check(Flavor.GOOD, newerSeed);
        assertEquals("migration", r.gate(), r.toString());
        assertTrue(r.detail().contains("newer than this t3 knows"), r.detail());
    }

    @Test
    void theLogIsScannedEvenWhenTheHandshakePasses() throws Exception {
        // A pattern the stand-in's ordinary start-up log matches stands in for a migration error logged but survived.
        DesiredState.HealthCheck spec = Specs.healthCheck(scratch, Duration.ofSeconds(30), Duration.ofSeconds(5), List.of(Pattern.compile("applied migration 4_")));
        Result r = check.check(binaries.get(Flavor.GOOD), populatedSeed, spec);
        assertEquals("log", r.gate(), r.toString());
    }
}
