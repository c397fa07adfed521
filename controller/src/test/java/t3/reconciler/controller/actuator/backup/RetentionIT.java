package t3.reconciler.controller.actuator.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.actuator.npm.SymlinkReleases;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.loop.Actuators;
import t3.reconciler.controller.crash.CrashPoints;
import t3.reconciler.controller.loop.Executor;
import t3.reconciler.controller.loop.LogAlerter;
import t3.reconciler.controller.loop.Outcome;
import t3.reconciler.controller.plan.Action;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.DesiredStateLoader;
import t3.reconciler.model.Rollout;
import t3.reconciler.model.Version;

/**
 * Retention as the executor applies it after each backup step: {@code backup.keep} newest backups of a user, and
 * always what a rollback needs: the open rollout's pre-bump backup, and the newest verified backup of last-good and
 * of each version still installed. Each test isolates one of those rules (nothing else would keep the backup it
 * protects) and shows the backup goes once the rule no longer applies. Real backups of a real local account.
 */
class RetentionIT {
    static final String USER = "t3st-ret";
    static final Version OLD = Version.parse("0.0.24-nightly.20260520.1"), A = Version.parse("0.0.25-nightly.20260601.1"),
            B = Version.parse("0.0.26-nightly.20260610.1");
    static final Instant T0 = Instant.parse("2026-06-08T02:30:00Z");

    @TempDir Path dir;
    DesiredState spec;
    StateStore store;
    SymlinkReleases releases;
    final SettableClock clock = new SettableClock();
    Executor executor;

    @BeforeEach
    void setUp() throws Exception {
        Path home = Fixtures.home(dir, USER);
        Fixtures.userDb(Files.createDirectories(home.resolve(".t3/userdata")).resolve("state.sqlite"));
        Fixtures.giveHome(dir, USER);
        spec = DesiredStateLoader.parse("users: [" + USER + "]\n"
                + "database: \"" + dir + "/home/{user}/.t3/userdata/state.sqlite\"\n"
                + "install: {versionsDir: " + dir + "/versions, link: " + dir + "/bin/t3}\n"
                + "backup: {dir: " + dir + "/backups, keep: 2}\n", dir.resolve("retention.yaml"));
        store = StateStore.open(dir.resolve("state.db"));
        releases = SymlinkReleases.from(spec);
        Actuators io = new Actuators(null, null, null, releases, new SqliteBackups(spec.backup().dir(), clock), null, null);
        executor = new Executor(io, store, clock, new LogAlerter(Log.toStderr(clock), Optional.empty()), CrashPoints.none());
    }

    @AfterEach
    void tearDown() {
        if (store != null) store.close();
    }

    @Test
    void theOpenRolloutsPreBumpBackupIsKeptWhileTheRolloutIsOpenAndOnlyThen() throws Exception {
        Rollout r = store.startRollout(B, Optional.of(A), T0);
        Path preBump = backup(A, true);
        Path b2 = backup(B, false), b3 = backup(B, false);
        assertEquals(List.of(b3, b2, preBump), kept(), "keep 2 newest, and the rollout's pre-bump backup (A is neither last-good nor installed)");

        store.finishRollout(r.id(), "succeeded", T0);
        Path b4 = backup(B, false);
        assertEquals(List.of(b4, b3), kept(), "once the rollout is closed nothing keeps it");
    }

    @Test
    void theNewestVerifiedBackupOfLastGoodIsKeptAndNotTheOlderOnes() throws Exception {
        store.setLastGood(A, T0);
        Path a1 = backup(A, false), a2 = backup(A, false);
        Path b1 = backup(B, false);
        assertEquals(List.of(b1, a2), kept(), "a1 is neither among the 2 newest nor the newest on last-good");
        Path b2 = backup(B, false), b3 = backup(B, false);
        assertEquals(List.of(b3, b2, a2), kept(), "a2, the newest on last-good " + A + ", outlives newer backups");
        assertTrue(!Files.exists(a1) && !Files.exists(b1));

        // Not verified (its sidecar lost): it cannot be a rollback's backup, so it does not count as the one to keep.
        Files.delete(Checksums.sidecar(a2));
        Path b4 = backup(B, false);
        assertEquals(List.of(b4, b3), kept(), "an unverified backup is not what a rollback to " + A + " could use");
    }

    @Test
    void theNewestVerifiedBackupOfEachInstalledVersionIsKept() throws Exception {
        installAside(OLD);
        Path old1 = backup(OLD, false), old2 = backup(OLD, false);
        Path b1 = backup(B, false), b2 = backup(B, false), b3 = backup(B, false);
        assertEquals(List.of(b3, b2, old2), kept(), OLD + " is installed aside, so its newest backup stays");
        assertTrue(!Files.exists(old1) && !Files.exists(b1));

        releases.prune(java.util.Set.of());
        Path b4 = backup(B, false);
        assertEquals(List.of(b4, b3), kept(), "once " + OLD + " is no longer installed nothing keeps its backup");
    }

    /** One backup step through the executor, a second after the previous one: it backs up, then prunes. */
    private Path backup(Version on, boolean forRollout) throws Exception {
        clock.now = clock.now.plusSeconds(1);
        Outcome o = executor.execute(spec, new Action.Backup(USER, on, forRollout));
        assertTrue(o.ok(), o.toString());
        return new SqliteBackups(spec.backup().dir()).list(USER).get(0).path();
    }

    private List<Path> kept() throws Exception {
        List<Path> out = new ArrayList<>();
        for (BackupInfo b : new SqliteBackups(spec.backup().dir()).list(USER)) out.add(b.path());
        return out;
    }

    /** A complete release directory, as the installer leaves one: what {@code present()} reports. */
    private void installAside(Version v) throws Exception {
        Files.createDirectories(releases.prefixOf(v).resolve("bin"));
        releases.markComplete(v);
        assertTrue(releases.present().contains(v));
    }

    static final class SettableClock extends Clock {
        Instant now = T0;

        @Override
        public ZoneId getZone() { return ZoneOffset.UTC; }

        @Override
        public Clock withZone(ZoneId zone) { return this; }

        @Override
        public Instant instant() { return now; }
    }
}
