package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static t3.reconciler.controller.e2e.DaemonProcess.ev;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import t3.reconciler.controller.actuator.systemd.DbusUnits;
import t3.reconciler.controller.store.Event;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.controller.testbed.ShippedUnit;

/**
 * {@code packaging/t3-reconciler.service}, byte for byte, run by the bed's systemd manager (root, so its sandboxing is
 * real: mount namespace, capability bounding set, seccomp) and driven with systemctl, as an operator would. Only paths
 * differ ({@link ShippedUnit}; docs/unit-sandbox.md lists the drop-in).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ShippedUnitIT {
    static final String[] USERS = {"t3su-ann", "t3su-ben"};
    static final String UNIT = ShippedUnit.NAME;
    static final String V1 = "0.0.25-nightly.20260605.2";
    static final String BAD = "0.0.25-nightly.20260609.3";
    static final Duration PASS = Duration.ofMinutes(4);
    /** CAP_CHOWN, DAC_OVERRIDE, KILL, SETGID, SETUID, SYS_PTRACE, SYS_ADMIN: the unit's set. */
    static final long CAPS = (1L << 0) | (1L << 1) | (1L << 5) | (1L << 6) | (1L << 7) | (1L << 19) | (1L << 21);
    static Bed bed;
    static ShippedUnit unit;
    static UnitLog log;
    static Path stateDir;
    static Path runtimeDir;

    @BeforeAll
    static void up() throws Exception {
        assertEquals("0", new String(new ProcessBuilder("id", "-u").start().getInputStream().readAllBytes()).strip(),
                "ShippedUnitIT needs root: it runs a root systemd manager and creates OS users");
        bed = Bed.up(ShippedUnit.freshBedDir(), USERS);
        unit = ShippedUnit.install(bed.dir, bed.spec);
        stateDir = unit.stateDir();
        runtimeDir = unit.runtimeDir();
        log = new UnitLog(unit.logFile(), unit::failed);
    }

    @AfterAll
    static void down() throws Exception {
        try {
            if (unit != null) unit.systemctl("stop", UNIT);
        } finally {
            if (bed != null) bed.close();
        }
    }

    @Test
    @Order(1)
    void itStartsInsideTheSandboxItDeclares() throws Exception {
        int from = log.mark();
        systemctl("start", UNIT);
        JsonNode done = log.await(from, ev("reconciled"), PASS, "the first pass");
        assertEquals("converged", done.path("outcome").asText(), done.toString());
        assertEquals("active", show("ActiveState"));
        long pid = Long.parseLong(show("MainPID"));
        assertEquals(Long.toString(pid), Files.readString(runtimeDir.resolve("t3-reconciler.pid")).strip(), "the pid file is in the RuntimeDirectory");
        assertTrue(Files.isRegularFile(stateDir.resolve("state.db")), "state lives in the StateDirectory");

        // The sandbox is the manager's doing, not the unit file's say-so: look at the process.
        List<String> status = Files.readAllLines(Path.of("/proc/" + pid + "/status"));
        assertEquals(String.format("%016x", CAPS), field(status, "CapBnd"), "bounding set as declared");
        assertEquals("1", field(status, "NoNewPrivs"));
        assertEquals("2", field(status, "Seccomp"), "a seccomp filter is installed");
        List<String> mounts = Files.readAllLines(Path.of("/proc/" + pid + "/mountinfo"));
        assertTrue(mountOptions(mounts, "/").startsWith("ro"), "ProtectSystem=strict: / is read-only\n" + mounts);
        assertTrue(mountOptions(mounts, stateDir.toString()).startsWith("rw"), "the StateDirectory is writable");
        assertTrue(mountOptions(mounts, "/tmp").startsWith("rw"), "a private /tmp");
        assertTrue(mounts.stream().anyMatch(l -> l.split(" ")[4].equals("/proc") && l.contains("hidepid=invisible")), "ProtectProc=invisible\n" + mounts);
        assertTrue(mountOptions(mounts, bed.dir.resolve("home").toString()).startsWith("rw"), "users' homes are writable for their own processes");

        String metrics = DaemonProcess.scrape(bed.spec);
        assertTrue(metrics.contains("t3r_"), "metrics answer on loopback:\n" + metrics.lines().limit(5).toList());
    }

    @Test
    @Order(2)
    void reloadRunsAPass() throws Exception {
        int from = log.mark();
        systemctl("reload", UNIT);
        log.await(from, ev("reconcile").and(n -> n.path("trigger").asText().contains("SIGHUP")), PASS, "a pass triggered by the reload");
        JsonNode done = log.await(from, ev("reconciled"), PASS, "the reload's pass ends");
        assertEquals("converged", done.path("outcome").asText(), done.toString());
    }

    /**
     * A stop while npm installs the candidate: the install finishes. With KillMode=control-group systemd sent npm
     * SIGTERM too, the install failed and the breaker blocked a good build (when the stop landed while npm ran).
     */
    @Test
    @Order(3)
    void stopDuringAnInstallLetsNpmFinish() throws Exception {
        bed.publish(V1, "good", "nightly");
        systemctl("reload", UNIT);
        awaitJournal("install");
        systemctl("stop", UNIT);
        assertEquals("success", show("Result"));
        try (StateStore store = StateStore.open(stateDir.resolve("state.db"))) {
            List<Event> events = store.events(Optional.empty(), 500);
            assertTrue(has(events, "install", V1, "ok"), "the install in flight finished: " + events);
            assertTrue(events.stream().noneMatch(e -> e.outcome().equals("error") || e.outcome().equals("failed")), "nothing failed: " + events);
            assertTrue(store.journal().isEmpty(), "no step left in flight: " + store.journal());
        }
        int from = log.mark();
        systemctl("start", UNIT);
        log.await(from, step("promote", V1, "ok"), PASS, "started again, it finishes the bump");
        assertEquals(bed.dir.resolve("versions/" + V1 + "/bin/t3"), Files.readSymbolicLink(bed.link()));
        assertEveryServerUp();
    }

    /**
     * Under the old unit the self-freeze could not be written (EROFS) and the breaker retried for ever: no rollback.
     * A stop arrives while a restore is in flight: a rollback is finished before the daemon exits, and with
     * KillMode=mixed systemd leaves the users' own restore processes alone until then.
     */
    @Test
    @Order(4)
    void aBuildThatFailsItsCanaryIsRolledBackEvenThroughAStop() throws Exception {
        bed.publish(BAD, "crash-under-systemd", "nightly");
        int from = log.mark();
        systemctl("reload", UNIT);
        String restoring = awaitJournal("restore");
        systemctl("stop", UNIT);
        assertEquals("success", show("Result"));
        log.await(from, step("finish-rollback", BAD, "ok"), Duration.ofSeconds(5), "the rollback completed before the daemon exited");
        assertTrue(Files.readString(stateDir.resolve("freeze")).startsWith("self-freeze"), "the breaker froze the controller where the unit lets it write");
        assertEquals(bed.dir.resolve("versions/" + V1 + "/bin/t3"), Files.readSymbolicLink(bed.link()), "the binary is back on " + V1);
        try (StateStore store = StateStore.open(stateDir.resolve("state.db"))) {
            List<Event> events = store.events(Optional.empty(), 500);
            List<String> failedCanary = events.stream().filter(e -> e.action().equals("canary") && e.target().endsWith("@" + BAD) && e.outcome().equals("failed"))
                    .map(e -> e.target().substring(0, e.target().indexOf('@'))).toList();
            assertEquals(1, failedCanary.size(), "the canary caught it on the first user it restarted: " + events);
            List<String> restartedOntoBad = events.stream().filter(e -> e.action().equals("canary") && e.target().endsWith("@" + BAD))
                    .map(e -> e.target().substring(0, e.target().indexOf('@'))).sorted().toList();
            List<String> restored = events.stream().filter(e -> e.action().equals("restore") && e.outcome().equals("ok")).map(Event::target).sorted().toList();
            assertEquals(restartedOntoBad, restored, "every user restarted onto the failed build, and only those, was restored: " + events);
            assertTrue(restored.contains(restoring), "the restore in flight at the stop finished: " + events);
            assertTrue(events.stream().noneMatch(e -> e.outcome().equals("error")), "no step failed on the sandbox: " + events);
            assertTrue(store.blocked().stream().anyMatch(v -> v.toString().equals(BAD)));
            assertTrue(store.journal().isEmpty(), "no step left in flight: " + store.journal());
        }
        assertEveryServerUp();

        from = log.mark();
        systemctl("start", UNIT);
        JsonNode held = log.await(from, ev("reconciled"), PASS, "started again, it holds");
        assertEquals("held", held.path("outcome").asText(), "the open breaker holds: " + held);
    }

    private static void assertEveryServerUp() throws Exception {
        try (DbusUnits units = new DbusUnits(bed.bus(), Duration.ofSeconds(2))) {
            for (String u : USERS) assertTrue(units.status("t3-serve@" + u + ".service").active(), u + "'s server is up");
        }
    }

    private static Predicate<JsonNode> step(String action, String target, String outcome) {
        return ev("step").and(n -> n.path("action").asText().equals(action) && n.path("target").asText().equals(target)
                && n.path("outcome").asText().equals(outcome));
    }

    private static boolean has(List<Event> events, String action, String target, String outcome) {
        return events.stream().anyMatch(e -> e.action().equals(action) && e.target().equals(target) && e.outcome().equals(outcome));
    }

    /** The target of the step {@code action} while it is journaled, looked up at each change of the state directory. */
    private static String awaitJournal(String action) throws Exception {
        Path db = stateDir.resolve("state.db");
        long deadline = System.nanoTime() + PASS.toNanos();
        try (WatchService ws = db.getFileSystem().newWatchService()) {
            stateDir.register(ws, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
            while (System.nanoTime() < deadline) {
                Optional<String> target = StateWatch.journal(db, action);
                if (target.isPresent()) return target.get();
                if (!show("ActiveState").equals("active")) fail("the unit stopped\n" + log.tail());
                WatchKey key = ws.poll(1, TimeUnit.SECONDS);
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                }
            }
        }
        fail("no " + action + " in flight within " + PASS.toSeconds() + " s\n" + log.tail());
        return null;
    }

    private static String field(List<String> status, String name) {
        return status.stream().filter(l -> l.startsWith(name + ":")).map(l -> l.substring(name.length() + 1).strip()).findFirst().orElseThrow();
    }

    /** Mount options of the mount at {@code point} in a mountinfo listing (the last one wins, as the kernel stacks them). */
    private static String mountOptions(List<String> mountinfo, String point) {
        String out = null;
        for (String l : mountinfo) {
            String[] f = l.split(" ");
            if (f[4].equals(point)) out = f[5];
        }
        if (out == null) fail("no mount at " + point + " in the unit's namespace");
        return out;
    }

    static String show(String property) throws Exception { return unit.show(property); }

    static String systemctl(String... args) throws Exception { return unit.systemctl(args); }
}
