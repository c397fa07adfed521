package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import t3.reconciler.controller.actuator.backup.SqliteBackups;
import t3.reconciler.controller.actuator.health.HttpHealthCheck;
import t3.reconciler.controller.actuator.health.HttpPairing;
import t3.reconciler.controller.actuator.npm.NpmPackages;
import t3.reconciler.controller.actuator.npm.SymlinkReleases;
import t3.reconciler.controller.actuator.systemd.CgroupBusyProbe;
import t3.reconciler.controller.actuator.systemd.DbusUnits;
import t3.reconciler.controller.cli.Main;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.loop.Actuators;
import t3.reconciler.controller.crash.CrashPoints;
import t3.reconciler.controller.loop.LogAlerter;
import t3.reconciler.controller.loop.Reconciler;
import t3.reconciler.controller.plan.PassOutcome;
import t3.reconciler.controller.store.Event;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.DesiredStateLoader;
import t3.reconciler.model.Version;

/**
 * Faults in the middle of a rollout, on one real bed (two users), in order: the D-Bus connection drops right after
 * the first canary restart; a build that passes its health check but cannot start under systemd; the newest backup
 * is corrupt when a downgrade needs one; the backup disk is full when a bump starts.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultRolloutIT {
    static final String A = "t3f-ua", B = "t3f-ub";
    static final String[] USERS = {A, B};
    static final Version V0 = Version.parse("0.0.25-nightly.20260601.1");
    static final Version V1 = Version.parse("0.0.25-nightly.20260608.2");
    static final Version V2 = Version.parse("0.0.26-nightly.20260609.3");
    static final Version V3 = Version.parse("0.0.27-nightly.20260610.4");
    static final Version V4 = Version.parse("0.0.28-nightly.20260611.5");
    static Bed bed;
    static Path fullDisk;

    @BeforeAll
    static void up() throws Exception {
        bed = Bed.fresh(USERS);
    }

    @AfterAll
    static void down() throws Exception {
        try {
            if (fullDisk != null) sh("umount", "-l", fullDisk.toString());
        } finally {
            if (bed != null) bed.close();
        }
    }

    @Test
    @Order(1)
    void theBusDroppingRightAfterACanaryRestartIsWaitedOutAndTheRolloutConverges() throws Exception {
        assertEquals(Main.OK, Main.run("run", "--once", "-f", bed.spec.toString()), "the bed converges on " + V0 + " first");
        bed.publish(V1.toString(), "good", "nightly");
        Map<String, Long> before = mainPids();
        DesiredState spec = DesiredStateLoader.load(bed.spec);
        AtomicBoolean dropped = new AtomicBoolean();
        CrashPoints dropBus = CrashPoints.hook(point -> {
            if (point.equals("after-restart-" + A) && dropped.compareAndSet(false, true)) systemdBed("kill-bus");
        });
        Actuators io = actuators(spec);
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            Reconciler reconciler = new Reconciler(io, store, Clock.systemUTC(), Log.toStderr(Clock.systemUTC()), new LogAlerter(Log.toStderr(Clock.systemUTC()), Optional.empty()), dropBus);

            Reconciler.Result cut = reconciler.reconcile(() -> spec, false, () -> false);
            assertTrue(dropped.get(), "the bus was dropped at the crash point");
            assertEquals(PassOutcome.ERROR, cut.outcome(), "the pass ends on the fault: " + cut);
            assertTrue(cut.transientFault(), "a bus outage is retried, not a verdict: " + cut);
            assertTrue(store.rollout().isPresent() && !store.rollout().get().failed(), "the rollout is neither failed nor rolled back over an outage");

            systemdBed("up"); // the bus comes back; the same process, the same DbusUnits, must reconnect
            Reconciler.Result after = reconciler.reconcile(() -> spec, false, () -> false);
            assertEquals(PassOutcome.CONVERGED, after.outcome(), after.toString());
            assertEquals(Optional.of(V1), store.lastGood());
            List<Event> events = store.events(Optional.empty(), 1000);
            assertTrue(events.stream().anyMatch(e -> e.action().equals("verify") && e.target().equals(A + "@" + V1) && e.outcome().equals("ok")),
                    "the user restarted before the drop is verified after it");
            assertTrue(events.stream().anyMatch(e -> e.action().equals("canary") && e.target().equals(B + "@" + V1) && e.outcome().equals("ok")));
        } finally {
            io.units().close();
        }
        Map<String, Long> pids = mainPids();
        for (String u : USERS) assertTrue(pids.get(u) != 0 && !pids.get(u).equals(before.get(u)), u + " is up on the new build: " + pids);
    }

    @Test
    @Order(2)
    void aBuildThatPassesItsHealthCheckButCannotStartUnderSystemdIsRolledBack() throws Exception {
        Map<String, Long> before = mainPids();
        bed.publish(V2.toString(), "crash-under-systemd", "nightly");

        assertEquals(Main.REFUSED, Main.run("run", "--once", "-f", bed.spec.toString()), "held by the breaker");

        assertEquals(bed.dir.resolve("versions/" + V1 + "/bin/t3"), Files.readSymbolicLink(bed.link()), "the link is back on " + V1);
        try (StateStore store = StateStore.open(bed.stateDb())) {
            List<Event> events = store.events(Optional.empty(), 1000);
            assertTrue(has(events, "health-check", V2.toString(), "ok"), "the health check, not run by systemd, passed");
            Event canary = events.stream().filter(e -> e.action().equals("canary") && e.target().equals(A + "@" + V2)).findFirst().orElseThrow();
            assertEquals("failed", canary.outcome(), canary.toString());
            assertTrue(has(events, "restore", A, "ok"), A + " was restored");
            assertFalse(events.stream().anyMatch(e -> e.target().startsWith(B + "@" + V2)), B + " was never restarted onto " + V2);
            assertTrue(store.blocked().contains(V2));
            assertEquals(Optional.of(V1), store.lastGood());
        }
        Map<String, Long> after = mainPids();
        assertNotEquals(0L, after.get(A), A + " is running again");
        assertEquals(before.get(B), after.get(B), B + " was not touched");
        try (DbusUnits units = new DbusUnits(bed.bus(), Duration.ofSeconds(2))) {
            for (String u : USERS) assertTrue(units.status("t3-serve@" + u + ".service").active(), u + " is active");
        }
        Files.deleteIfExists(bed.freezeFile()); // the operator resumes; V2 stays blocked
    }

    @Test
    @Order(3)
    void aDowngradeNeverRestoresACorruptBackupItTakesTheNewestVerifiedOneOrRefuses() throws Exception {
        Path pinned = variant("pinned", "pin: \"" + V0 + "\"\n" + Files.readString(bed.spec));
        BackupInfo aNewest = backupsOn(A, V0).get(0);
        BackupInfo aOlder = backupsOn(A, V0).get(1);
        List<BackupInfo> bAll = backupsOn(B, V0);
        Map<Path, byte[]> saved = new HashMap<>();
        flip(aNewest.path(), saved);
        for (BackupInfo b : bAll) flip(b.path(), saved);
        assertFalse(backupsOn(A, V0).get(0).verified(), "the flipped bytes break the sha256 sidecar");

        Map<String, Long> before = mainPids();
        assertEquals(Main.REFUSED, Main.run("run", "--once", "-f", pinned.toString()), B + " has no verified backup on " + V0);
        assertEquals(bed.dir.resolve("versions/" + V1 + "/bin/t3"), Files.readSymbolicLink(bed.link()), "nothing switched");
        assertEquals(before, mainPids(), "nobody restarted");
        try (StateStore store = StateStore.open(bed.stateDb())) {
            Event hold = store.events(Optional.empty(), 1000).stream().filter(e -> e.action().equals("hold:downgrade")).reduce((x, y) -> y).orElseThrow();
            assertTrue(hold.reason().contains("no verified backup taken on " + V0 + " for " + B) && !hold.reason().contains(A), hold.reason());
        }

        for (BackupInfo b : bAll) Files.write(b.path(), saved.get(b.path())); // B's backups repaired; A's newest stays corrupt
        assertEquals(Main.OK, Main.run("run", "--once", "-f", pinned.toString()), "the deliberate downgrade goes through");
        assertEquals(bed.dir.resolve("versions/" + V0 + "/bin/t3"), Files.readSymbolicLink(bed.link()));
        try (StateStore store = StateStore.open(bed.stateDb())) {
            Event restoreA = store.events(Optional.empty(), 1000).stream().filter(e -> e.action().equals("restore") && e.target().equals(A)).reduce((x, y) -> y).orElseThrow();
            assertEquals("ok", restoreA.outcome());
            assertTrue(restoreA.reason().contains(aOlder.path().getFileName().toString()), "restored from the newest verified backup: " + restoreA.reason());
            assertFalse(restoreA.reason().contains(aNewest.path().getFileName().toString()), "never from the corrupt one: " + restoreA.reason());
        }
    }

    @Test
    @Order(4)
    void aFullBackupDiskStopsTheBumpBeforeAnythingIsInstalledAndLeavesNoBackupThatLooksGood() throws Exception {
        fullDisk = bed.dir.resolve("fullbackups");
        Files.createDirectories(fullDisk);
        sh("mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "t3f-full", fullDisk.toString());
        // Today's newest backup of each user comes along, so the daily backup is not due and the bump's own is the one that fails.
        for (String u : USERS) {
            BackupInfo newest = new SqliteBackups(bed.dir.resolve("backups")).list(u).get(0);
            Path dir = fullDisk.resolve(u);
            sh("cp", "-a", newest.path().getParent().toString(), dir.toString());
            sh("sh", "-c", "find \"$1\" -mindepth 1 -maxdepth 1 ! -name \"$2\" ! -name \"$2.sha256\" -exec rm -rf {} +", "-", dir.toString(), newest.path().getFileName().toString());
        }
        fill(fullDisk.resolve("filler"));
        Path spec = variant("full", Files.readString(bed.spec).replaceAll("(?m)^backup: \\{dir: [^,]*,", "backup: {dir: " + fullDisk + ","));
        Map<Path, Boolean> backupsBefore = listing();
        Map<String, Long> pids = mainPids();
        bed.publish(V3.toString(), "good", "nightly");

        assertEquals(Main.FAILED, Main.run("run", "--once", "-f", spec.toString()), "a full disk is a fault: exit 1, retried by the daemon");

        assertEquals(bed.dir.resolve("versions/" + V0 + "/bin/t3"), Files.readSymbolicLink(bed.link()), "nothing switched");
        assertFalse(Files.exists(bed.dir.resolve("versions/" + V3)), "nothing installed");
        assertEquals(pids, mainPids(), "nobody restarted");
        assertEquals(backupsBefore, listing(), "no backup file appeared, verified or not, and none was removed");
        try (Stream<Path> s = Files.walk(fullDisk)) {
            List<Path> temps = s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
            assertTrue(temps.isEmpty(), "no half-written temp left: " + temps);
        }
        try (StateStore store = StateStore.open(bed.stateDb())) {
            Event backup = store.events(Optional.empty(), 1000).stream().filter(e -> e.action().equals("backup")).reduce((x, y) -> y).orElseThrow();
            assertEquals("failed", backup.outcome(), "recorded as a failed step (what T3BackupFailing counts), not only thrown: " + backup);
            assertTrue(backup.reason().contains("full"), "the reason says the disk is full: " + backup.reason());
            assertTrue(store.rollout().map(r -> r.backups().isEmpty()).orElse(false), "the open rollout records no backup");
        }
    }

    @Test
    @Order(5)
    void aRollbackWhosePreBumpBackupWasCorruptedRefusesToRestoreItAndSaysSo() throws Exception {
        assertEquals(Main.OK, Main.run("run", "--once", "-f", bed.spec.toString()), "with room on the disk, the bump of " + V3 + " finishes");
        bed.archiveThread(B); // B's data trips the next build's migration; A, the health check's seed, has none
        bed.publish(V4.toString(), "migration-fails-archived", "nightly");
        DesiredState spec = DesiredStateLoader.load(bed.spec);
        Actuators io = actuators(spec);
        Map<Path, byte[]> saved = new HashMap<>();
        Object[] bInode = new Object[1];
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            // Right after A's canary restart (B's backup is taken, B not yet touched), B's pre-bump backup rots.
            CrashPoints rot = CrashPoints.hook(point -> {
                if (!point.equals("after-restart-" + A) || !saved.isEmpty()) return;
                try {
                    flip(store.rollout().orElseThrow().backups().get(B), saved);
                    bInode[0] = Files.readAttributes(bed.database(B), java.nio.file.attribute.BasicFileAttributes.class).fileKey();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            Reconciler reconciler = new Reconciler(io, store, Clock.systemUTC(), Log.toStderr(Clock.systemUTC()), new LogAlerter(Log.toStderr(Clock.systemUTC()), Optional.empty()), rot);
            Reconciler.Result r = reconciler.reconcile(() -> spec, false, () -> false);

            assertEquals(1, saved.size(), "the backup was corrupted at the hook");
            assertEquals(PassOutcome.ERROR, r.outcome(), r.toString());
            List<Event> events = store.events(Optional.empty(), 1000);
            assertTrue(has(events, "canary", B + "@" + V4, "failed"), "the canary caught B");
            assertTrue(has(events, "restore", A, "ok"), A + " (intact backup) restored");
            Event restoreB = events.stream().filter(e -> e.action().equals("restore") && e.target().equals(B)).reduce((x, y) -> y).orElseThrow();
            assertEquals("error", restoreB.outcome());
            // Which check catches it depends on where the flipped byte lands (a row: sha256 only; an index: integrity_check too).
            assertTrue(restoreB.reason().contains("refusing to restore") && restoreB.reason().matches("(?s).*(sha256|integrity_check).*"),
                    "says why the backup is refused: " + restoreB.reason());
            assertEquals(t3.reconciler.model.BreakerState.Status.ROLLBACK_FAILED, store.breaker().status(), "the loudest state: an operator must look");
            assertEquals(bInode[0], Files.readAttributes(bed.database(B), java.nio.file.attribute.BasicFileAttributes.class).fileKey(),
                    B + "'s database was not replaced by the corrupt backup");
        } finally {
            io.units().close();
        }
        long restoresBefore;
        try (StateStore store = StateStore.open(bed.stateDb())) {
            restoresBefore = store.events(Optional.empty(), 1000).stream().filter(e -> e.action().equals("restore") || e.action().equals("recover")).count();
        }
        assertEquals(Main.REFUSED, Main.run("run", "--once", "-f", bed.spec.toString()), "and it stays held until repaired by hand, retrying nothing");
        try (StateStore store = StateStore.open(bed.stateDb())) {
            List<Event> events = store.events(Optional.empty(), 1000);
            Event hold = events.stream().filter(e -> e.action().equals("hold:breaker")).reduce((x, y) -> y).orElseThrow();
            assertTrue(hold.reason().contains("repair by hand"), hold.reason());
            assertEquals(restoresBefore, events.stream().filter(e -> e.action().equals("restore") || e.action().equals("recover")).count(), "the refused restore is not redone");
        }
        try (DbusUnits units = new DbusUnits(bed.bus(), Duration.ofSeconds(2))) {
            assertTrue(units.status("t3-serve@" + A + ".service").active(), A + ", restored, is up");
        }
    }

    // ------------------------------------------------------------------------------------------------------------

    static Actuators actuators(DesiredState s) {
        return new Actuators(new DbusUnits(s.controller().bus()), new CgroupBusyProbe(), NpmPackages.from(s.install()),
                SymlinkReleases.from(s), new SqliteBackups(s.backup().dir()), new HttpHealthCheck(s.install().user()), new HttpPairing());
    }

    static List<BackupInfo> backupsOn(String user, Version v) throws Exception {
        return new SqliteBackups(bed.dir.resolve("backups")).list(user).stream().filter(b -> b.version().equals(v)).toList();
    }

    /** Every backup file under the full disk, with whether it is verified. */
    static Map<Path, Boolean> listing() throws Exception {
        Map<Path, Boolean> m = new HashMap<>();
        for (String u : USERS) for (BackupInfo b : new SqliteBackups(fullDisk).list(u)) m.put(b.path(), b.verified());
        return m;
    }

    /** Flips bytes in the last page (row data, where integrity_check may not look): only the sha256 sidecar can tell. */
    static void flip(Path file, Map<Path, byte[]> saved) throws IOException {
        byte[] original = Files.readAllBytes(file);
        saved.put(file, original);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            long at = original.length - 64;
            ch.write(ByteBuffer.wrap(new byte[] {(byte) (original[(int) at] ^ 0x20)}), at);
        }
    }

    static void fill(Path file) throws IOException {
        byte[] chunk = new byte[1 << 16];
        try (OutputStream out = Files.newOutputStream(file)) {
            while (true) out.write(chunk);
        } catch (IOException e) {
            if (!String.valueOf(e.getMessage()).contains("space")) throw e; // ENOSPC is the point
        }
    }

    static Path variant(String name, String text) throws IOException {
        Path p = bed.dir.resolve("desired-state-" + name + ".yaml");
        Files.writeString(p, text);
        return p;
    }

    static boolean has(List<Event> events, String action, String target, String outcome) {
        return events.stream().anyMatch(e -> e.action().equals(action) && e.target().equals(target) && e.outcome().equals(outcome));
    }

    static Map<String, Long> mainPids() throws Exception {
        Map<String, Long> m = new HashMap<>();
        try (DbusUnits units = new DbusUnits(bed.bus(), Duration.ofSeconds(2))) {
            for (String u : USERS) m.put(u, units.status("t3-serve@" + u + ".service").mainPid());
        }
        return m;
    }

    static void systemdBed(String verb) {
        try {
            sh(Bed.repoRoot().resolve("testbed/systemd-bed.sh").toString(), verb, bed.dir.resolve("systemd").toString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static void sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(bed.dir.resolve("bed.stderr.log").toFile())).start();
        assertEquals(0, p.waitFor(), String.join(" ", new ArrayList<>(List.of(cmd))) + " failed; see " + bed.dir.resolve("bed.stderr.log"));
    }
}
