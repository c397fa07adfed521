package t3.reconciler.controller.actuator.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.UnitStatus;
import t3.reconciler.controller.testbed.SystemdBed;

/** DbusUnits and CgroupBusyProbe against a real systemd --user manager (needs root). */
@Timeout(value = 120, unit = TimeUnit.SECONDS) // a safety net for a wedged bed, not part of any assertion
class DbusUnitsIT {
    private static final String USER_A = "t3sd-a";
    private static final String USER_B = "t3sd-b";
    private static final String UNIT_A = "t3-serve@" + USER_A + ".service";
    private static final String UNIT_B = "t3-serve@" + USER_B + ".service";
    private static final Duration JOB = Duration.ofSeconds(30);
    private static final Pattern AGENT = Pattern.compile("(^|/)claude( |$)");

    /**
     * Stand-in for {@code t3 serve}: serves HTTP on the port. In the user's home, a file {@code agent} makes it
     * start a child whose argv[0] is claude, and a FIFO {@code ready} gets a line once that child is in place.
     */
    private static final String FAKE_T3 = """
            #!/bin/bash
            set -eu
            while (( $# )); do case $1 in --port) port=$2; shift;; --base-dir) base=$2; shift;; esac; shift; done
            home=$(dirname "$base")
            mkdir -p "$base"
            if [[ -e $home/agent ]]; then
                (exec -a claude sleep 1000) &
                until [[ "$(tr '\\0' ' ' </proc/$!/cmdline)" == claude* ]]; do sleep 0.01; done
            fi
            if [[ -p $home/ready ]]; then echo "$$" >"$home/ready"; fi
            exec /usr/bin/python3 -m http.server --bind 127.0.0.1 "$port" --directory "$base"
            """;

    private static Path root;
    private static Path homes;
    private static SystemdBed bed;
    private static DbusUnits units;

    @BeforeAll
    static void up() throws IOException {
        root = Files.createTempDirectory("t3sd-");
        // The units run as other users, who must reach the fake t3 and their homes below this directory.
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        bed = SystemdBed.start(root.resolve("bed"));
        homes = Files.createDirectories(root.resolve("home"));
        Path link = root.resolve("fake-t3");
        Files.writeString(link, FAKE_T3);
        Files.setPosixFilePermissions(link, PosixFilePermissions.fromString("rwxr-xr-x"));
        bed.addUser(USER_A, freePort(), homes, link);
        bed.addUser(USER_B, freePort(), homes, link);
        Files.writeString(bed.unitsDir().resolve("t3sd-broken.service"), """
                [Service]
                ExecStartPre=/bin/false
                ExecStart=/bin/sleep 1000
                """);
        Files.writeString(bed.unitsDir().resolve("t3sd-slow.service"), """
                [Service]
                ExecStartPre=/bin/sleep 1000
                ExecStart=/bin/sleep 1000
                """);
        Files.writeString(bed.unitsDir().resolve("t3sd-oneshot.service"), """
                [Service]
                Type=oneshot
                ExecStart=/bin/true
                """);
        units = new DbusUnits(bed.busAddress());
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
    void restartReplacesTheMainProcess() throws Exception {
        units.start(UNIT_A, JOB);
        UnitStatus before = units.status(UNIT_A);

        units.restart(UNIT_A, JOB);
        UnitStatus after = units.status(UNIT_A);

        assertTrue(after.active(), after.toString());
        assertNotEquals(before.mainPid(), after.mainPid());
        assertTrue(after.execMainStart().orElseThrow().isAfter(before.execMainStart().orElseThrow()), before + " -> " + after);
        assertTrue(after.controlGroup().orElseThrow().endsWith("/" + UNIT_A), after.toString());
    }

    @Test
    void stopThenStart() throws Exception {
        units.start(UNIT_B, JOB);

        units.stop(UNIT_B, JOB);
        UnitStatus stopped = units.status(UNIT_B);
        assertEquals("inactive", stopped.activeState());
        assertEquals(0, stopped.mainPid());

        units.start(UNIT_B, JOB);
        UnitStatus started = units.status(UNIT_B);
        assertEquals("running", started.subState());
        assertTrue(started.mainPid() > 0);
    }

    @Test
    void listMatchesByPattern() throws Exception {
        units.start(UNIT_A, JOB);
        units.start(UNIT_B, JOB);

        List<String> names = units.list("t3-serve@t3sd-*.service").stream().map(UnitStatus::name).toList();

        assertTrue(names.containsAll(List.of(UNIT_A, UNIT_B)), names.toString());
        assertEquals(List.of(), units.list("t3sd-nothing-*.service"));
    }

    @Test
    void unitThatFailsToStartIsAVerdictNamingTheResult() {
        ActuatorException e = assertThrows(ActuatorException.class, () -> units.start("t3sd-broken.service", JOB));

        assertFalse(e.isTransient());
        assertTrue(e.getMessage().contains("job result 'failed'"), e.getMessage());
        assertTrue(e.getMessage().contains("failed/failed"), e.getMessage());
    }

    @Test
    void unitThatIsNotActiveAfterStartIsAVerdict() {
        ActuatorException e = assertThrows(ActuatorException.class, () -> units.start("t3sd-oneshot.service", JOB));

        assertFalse(e.isTransient());
        assertTrue(e.getMessage().contains("inactive/dead"), e.getMessage());
    }

    @Test
    void jobUnfinishedAtTheTimeoutIsAVerdict() throws Exception {
        ActuatorException e = assertThrows(ActuatorException.class, () -> units.start("t3sd-slow.service", Duration.ofMillis(300)));

        assertFalse(e.isTransient());
        assertTrue(e.getMessage().contains("unfinished after PT0.3S; unit activating/start-pre"), e.getMessage());
        units.stop("t3sd-slow.service", JOB); // cancels the pending start, killing ExecStartPre
        assertFalse(units.status("t3sd-slow.service").active());
    }

    @Test
    void unknownUnitIsMissing() throws Exception {
        assertEquals(UnitStatus.missing("t3sd-nope.service"), units.status("t3sd-nope.service"));
        // Known but never started (so not loaded) is not missing: the template exists.
        assertEquals("inactive", units.status("t3-serve@t3sd-never.service").activeState());

        ActuatorException e = assertThrows(ActuatorException.class, () -> units.start("t3sd-nope.service", JOB));
        assertFalse(e.isTransient());
    }

    @Test
    void droppedBusIsTransientThenReconnected() throws Exception {
        units.start(UNIT_A, JOB);
        bed.killBus();

        ActuatorException e = assertThrows(ActuatorException.class, () -> units.status(UNIT_A));
        assertTrue(e.isTransient(), e.getMessage());
        e = assertThrows(ActuatorException.class, () -> units.restart(UNIT_A, JOB));
        assertTrue(e.isTransient(), e.getMessage());

        bed.ensureUp();
        assertTrue(units.status(UNIT_A).active());
        units.restart(UNIT_A, JOB); // job signals arrive on the new connection too
        assertTrue(units.status(UNIT_A).active());
    }

    @Test
    void unreachableBusIsTransient() {
        try (DbusUnits nowhere = new DbusUnits("unix:path=" + root.resolve("no-bus"), Duration.ofMillis(300))) {
            ActuatorException e = assertThrows(ActuatorException.class, () -> nowhere.status(UNIT_A));
            assertTrue(e.isTransient(), e.getMessage());
        }
    }

    @Test
    void busyProbeFindsAnAgentUnderItsUnitOnly() throws Exception {
        Path agentMarker = Files.createFile(homes.resolve(USER_A).resolve("agent"));
        try {
            restartAndAwaitReady(USER_A, UNIT_A);
            restartAndAwaitReady(USER_B, UNIT_B);
            CgroupBusyProbe probe = new CgroupBusyProbe();
            UnitStatus a = units.status(UNIT_A);
            UnitStatus b = units.status(UNIT_B);

            assertEquals(List.of("claude 1000"), probe.busyProcesses(a, AGENT));
            assertEquals(List.of(), probe.busyProcesses(b, AGENT));
            // Without a cgroup to read, the main process's descendants are searched instead.
            UnitStatus noCgroup = new UnitStatus(a.name(), a.activeState(), a.subState(), a.mainPid(), a.execMainStart(), a.nRestarts(), Optional.empty());
            assertEquals(List.of("claude 1000"), probe.busyProcesses(noCgroup, AGENT));
        } finally {
            Files.delete(agentMarker);
        }
    }

    /** Restarts the unit and blocks until the fake t3 reports, through a FIFO, that its children are in place. */
    private static void restartAndAwaitReady(String user, String unit) throws Exception {
        Path fifo = homes.resolve(user).resolve("ready");
        Process mkfifo = new ProcessBuilder("mkfifo", "-m", "0666", fifo.toString()).inheritIO().start();
        assertEquals(0, mkfifo.waitFor());
        try {
            units.restart(unit, JOB);
            Files.readString(fifo); // returns when the fake t3 has written its line and closed the FIFO
        } finally {
            Files.delete(fifo);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
