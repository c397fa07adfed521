package t3.reconciler.controller.actuator.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import t3.reconciler.controller.actuator.UnitStatus;
import t3.reconciler.controller.testbed.SystemdBed;

/**
 * The informer-style unit cache of {@link DbusUnits} against a real systemd --user manager: a converged list costs one
 * D-Bus call whatever the number of units; a unit restarted by another client is seen through its signals, reading
 * only that unit again; a missed signal is healed by the listing or the full resync; a bus reconnect starts afresh.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS) // a safety net for a wedged bed, not part of any assertion
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UnitCacheIT {
    static final List<String> USERS = List.of("t3rp-uc1", "t3rp-uc2", "t3rp-uc3");
    static final String PATTERN = "t3-serve@t3rp-uc*.service";
    static final Duration JOB = Duration.ofSeconds(60);
    /** Long enough never to fall due inside a test, unless the test asks for it. */
    static final Duration NO_RESYNC = Duration.ofHours(1);
    static final String FAKE_T3 = """
            #!/bin/bash
            while (( $# )); do case $1 in --port) port=$2; shift;; --base-dir) base=$2; shift;; esac; shift; done
            mkdir -p "$base"
            exec /usr/bin/python3 -m http.server --bind 127.0.0.1 "$port" --directory "$base"
            """;

    static Path root;
    static SystemdBed bed;
    static DbusUnits units;

    @BeforeAll
    static void up() throws Exception {
        root = Files.createTempDirectory("t3rp-uc-");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        bed = SystemdBed.start(root.resolve("bed"));
        Path homes = Files.createDirectories(root.resolve("home"));
        Path link = root.resolve("fake-t3");
        Files.writeString(link, FAKE_T3);
        Files.setPosixFilePermissions(link, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (String u : USERS) bed.addUser(u, freePort(), homes, link);
        units = new DbusUnits(bed.busAddress(), Duration.ofSeconds(2), NO_RESYNC);
        for (String u : USERS) units.start(unit(u), JOB);
    }

    @AfterAll
    static void down() throws IOException {
        if (units != null) units.close();
        if (bed != null) bed.close();
        if (root != null) {
            try (Stream<Path> all = Files.walk(root)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    @Test
    @Order(1)
    void aConvergedListCostsOneCallAndAgreesWithAFreshClient() throws Exception {
        units.list(PATTERN); // fills the cache
        long before = units.busCalls();
        Map<String, UnitStatus> cached = byName(units.list(PATTERN));
        assertEquals(1, units.busCalls() - before, "one ListUnitsByPatterns, no property reads");
        assertEquals(USERS.size(), cached.size(), cached.toString());
        try (DbusUnits fresh = new DbusUnits(bed.busAddress())) {
            long f0 = fresh.busCalls();
            assertEquals(byName(fresh.list(PATTERN)), cached, "what the cache serves is what systemd says");
            assertEquals(1 + 2 * USERS.size(), fresh.busCalls() - f0, "an empty cache reads every unit: 1 + 2 per unit (was 1 + 7 per unit)");
        }
        long s0 = units.busCalls();
        UnitStatus one = units.status(unit(USERS.get(0)));
        assertEquals(cached.get(unit(USERS.get(0))), one);
        assertEquals(1, units.busCalls() - s0, "a cached status costs one GetUnit (which proves the bus is there)");
    }

    @Test
    @Order(2)
    void aUnitRestartedBehindOurBackIsSeenThroughItsSignalsReadingOnlyThatUnit() throws Exception {
        String target = unit(USERS.get(1));
        Map<String, UnitStatus> before = byName(units.list(PATTERN));
        UnitCache cache = units.cache().orElseThrow();
        long seen = cache.signals();
        try (DbusUnits other = new DbusUnits(bed.busAddress())) {
            other.restart(target, JOB); // another client: not through `units`
        }
        // systemd sends the unit's PropertiesChanged before the JobRemoved that ended the other client's wait.
        assertTrue(cache.awaitSignalsAfter(seen, 30_000), "a PropertiesChanged reached our connection");
        long c0 = units.busCalls();
        Map<String, UnitStatus> after = byName(units.list(PATTERN));
        assertNotEquals(before.get(target).mainPid(), after.get(target).mainPid(), "the new main process is seen");
        assertTrue(after.get(target).execMainStart().orElseThrow().isAfter(before.get(target).execMainStart().orElseThrow()));
        assertEquals(1 + 2, units.busCalls() - c0, "the list, then both property reads of the restarted unit only");
        for (String u : USERS) if (!unit(u).equals(target)) assertEquals(before.get(unit(u)), after.get(unit(u)));
    }

    @Test
    @Order(3)
    void aMissedSignalIsHealedByTheListingOrByTheFullResync() throws Exception {
        String target = unit(USERS.get(2));
        UnitStatus real = byName(units.list(PATTERN)).get(target);
        UnitCache cache = units.cache().orElseThrow();
        String path = cache.pathOf(target).orElseThrow();

        // As if a stop had been missed: the listing disagrees on the state, so the unit is read again.
        cache.put(path, new UnitStatus(target, "failed", "failed", 0, real.execMainStart(), 0, real.controlGroup()), cache.generation(path));
        assertEquals(real, byName(units.list(PATTERN)).get(target));

        // As if a restart had been missed: same state, another main process; only the full resync can tell.
        UnitStatus stale = new UnitStatus(target, real.activeState(), real.subState(), 1, real.execMainStart(), 0, real.controlGroup());
        try (DbusUnits resyncing = new DbusUnits(bed.busAddress(), Duration.ofSeconds(2), Duration.ZERO)) {
            resyncing.list(PATTERN);
            UnitCache c = resyncing.cache().orElseThrow();
            c.put(path, stale, c.generation(path));
            long c0 = resyncing.busCalls();
            assertEquals(real, byName(resyncing.list(PATTERN)).get(target), "the resync read it afresh");
            assertEquals(1 + 2 * USERS.size(), resyncing.busCalls() - c0, "a full resync reads every unit");
        }
    }

    @Test
    @Order(4)
    void aBusReconnectDropsTheCache() throws Exception {
        units.list(PATTERN);
        UnitCache old = units.cache().orElseThrow();
        bed.killBus();
        bed.ensureUp();
        long c0 = units.busCalls();
        Map<String, UnitStatus> after = byName(units.list(PATTERN));
        assertEquals(USERS.size(), after.size());
        assertTrue(units.cache().orElseThrow() != old, "a new connection, a new cache");
        // At least: a list call that may have failed on the dead connection is counted too.
        assertTrue(units.busCalls() - c0 >= 1 + 2 * USERS.size(), "signals sent while no connection was up are lost: everything is read again");
        long c1 = units.busCalls();
        units.list(PATTERN);
        assertEquals(1, units.busCalls() - c1, "and the new connection's cache serves the next list");
    }

    static Map<String, UnitStatus> byName(List<UnitStatus> all) {
        return all.stream().collect(Collectors.toMap(UnitStatus::name, Function.identity()));
    }

    static String unit(String user) { return "t3-serve@" + user + ".service"; }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
