package t3.reconciler.controller.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.cli.Main;
import t3.reconciler.controller.testbed.CapturedCli;
import t3.reconciler.controller.e2e.DaemonProcess;

/**
 * A daemon that died without removing its pid file leaves a pid that any process may get next: here a local user's
 * {@code sleep}. Before: {@code reconcile} sent that pid SIGHUP (and killed the sleep). Now it signals only the process
 * the kernel lists as the holder of the daemon's instance lock, and says why there is no daemon otherwise; with a
 * real daemon it still works, and a pid file that names someone else while the daemon runs is refused too.
 */
class StalePidFileIT {
    static final String ATTACKER = "t3sc-sleeper";

    @TempDir Path dir;
    Path spec, pidFile, lock;
    Process sleeper;

    @BeforeAll
    static void attacker() throws Exception {
        Hostile.requireRoot();
        Hostile.ensureUser(ATTACKER);
    }

    @BeforeEach
    void layout() throws Exception {
        Path state = Files.createDirectory(dir.resolve("state"));
        pidFile = state.resolve("t3-reconciler.pid");
        lock = state.resolve("state.db.lock");
        // No systemd here: each pass fails on the bus and the daemon waits for its next trigger, which is all SIGHUP needs.
        spec = Files.writeString(dir.resolve("desired.yaml"), "users: [alice]\nschedule: {resync: 1h}\ncontroller:\n  stateDb: " + state.resolve("state.db")
                + "\n  freezeFile: " + state.resolve("freeze") + "\n  pidFile: " + pidFile + "\n  metrics: off\n  bus: \"unix:path=" + dir.resolve("no-bus") + "\"\n");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        sleeper = Hostile.spawn(ATTACKER, List.of("sleep", "3600"), dir.resolve("sleeper.log"));
    }

    @AfterEach
    void stopSleeper() throws Exception {
        if (sleeper != null && sleeper.isAlive()) {
            sleeper.destroyForcibly();
            sleeper.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aStalePidFileNamingAnotherUsersProcessSignalsNothing() throws Exception {
        Files.writeString(pidFile, sleeper.pid() + "\n"); // the daemon's pid, reused after it died

        CapturedCli r = CapturedCli.run("reconcile", "-f", spec.toString());

        assertEquals(Main.FAILED, r.code(), r.out() + r.err());
        assertEquals("no daemon running (pid file " + pidFile + " names pid " + sleeper.pid() + ", which does not hold the lock " + lock + "); nothing was signalled",
                r.err().strip());
        assertNotSignalled(sleeper);
    }

    @Test
    void withARealDaemonReconcileSignalsItAndOnlyIt() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start(spec, Map.of())) {
            daemon.await(0, DaemonProcess.ev("started"), Duration.ofSeconds(60), "the daemon's start");
            int mark = daemon.mark();
            CapturedCli r = CapturedCli.run("reconcile", "-f", spec.toString());
            assertEquals(Main.OK, r.code(), r.out() + r.err());
            assertTrue(r.out().startsWith("sent SIGHUP to " + daemon.pid() + ";"), r.out());
            daemon.await(mark, DaemonProcess.ev("reconcile").and(n -> n.path("trigger").asText().contains("SIGHUP")), Duration.ofSeconds(60),
                    "a pass triggered by the signal: the daemon took it and is responsive");

            // The daemon is alive and holds the lock, but the pid file names the user's process: still not signalled.
            Files.writeString(pidFile, sleeper.pid() + "\n");
            CapturedCli wrong = CapturedCli.run("reconcile", "-f", spec.toString());
            assertEquals(Main.FAILED, wrong.code(), wrong.out() + wrong.err());
            assertTrue(wrong.err().contains("names pid " + sleeper.pid() + ", which does not hold the lock " + lock + "; pid " + daemon.pid() + " does"), wrong.err());
            CapturedCli rollback = CapturedCli.run("rollback", "-f", spec.toString());
            assertTrue(!rollback.out().contains("sent SIGHUP") && !rollback.err().contains("sent SIGHUP"), "rollback does not signal it either: " + rollback.out() + rollback.err());
            assertTrue(ProcessHandle.of(daemon.pid()).map(ProcessHandle::isAlive).orElse(false), "the daemon is still up");
        }
        assertNotSignalled(sleeper);
    }

    /**
     * Signals are queued, so "still alive" right after could miss a SIGHUP in flight: end the sleeper with SIGTERM and
     * read how it died. Pending signals are taken lowest number first, so a SIGHUP sent earlier would be the cause (129).
     */
    static void assertNotSignalled(Process p) throws Exception {
        assertTrue(p.isAlive(), "the user's process is alive");
        p.destroy();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(128 + 15, p.exitValue(), "it died of our SIGTERM, not of a SIGHUP (129)");
    }
}
