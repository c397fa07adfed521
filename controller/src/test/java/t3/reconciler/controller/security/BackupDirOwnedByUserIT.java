package t3.reconciler.controller.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import t3.reconciler.controller.actuator.backup.SqliteBackups;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.Version;

/**
 * Issue 12, attack 2: backups were written in {@code <backup.dir>/<user>}, a directory the user owned, by path, so
 * the user's links (planted, or swapped in by an inotify racer) took root's writes to root's files, and a FIFO as a
 * {@code .sha256} sidecar hung every listing. The old layout is set up as the previous release left it, armed by
 * the attacker, a real unprivileged account; the controller must take the directory back without following
 * anything in it, and from then on the user can neither read nor list nor plant anything there.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a safety net: a FIFO opened by mistake would hang, not fail
class BackupDirOwnedByUserIT {
    static final String ATTACKER = "t3sa-olddir1", OTHER = "t3sa-olddir2";
    static final Version V = Version.parse("0.0.25-nightly.20260601.1");
    static final Instant T0 = Instant.parse("2026-06-08T10:15:30.123Z");
    static final String NEXT = "20260608T101530123Z_" + V + ".sqlite", OLDER = "20260608T091530123Z_" + V + ".sqlite";
    static AttackBed bed;

    @BeforeAll
    static void up() throws Exception { bed = AttackBed.up(ATTACKER, OTHER); }

    @AfterAll
    static void down() throws Exception { if (bed != null) bed.close(); }

    @Test
    void anOldLayoutDirectoryArmedByTheUserIsTakenBackWithoutFollowingAnything() throws Exception {
        Path victims = bed.dir.resolve("t3sa-victims");
        Victim next = Victim.file(victims, "next-backup"), side = Victim.file(victims, "next-sidecar"),
                sideTmp = Victim.file(victims, "sidecar-temp"), raced = Victim.file(victims, "raced"), archived = Victim.file(victims, "archived");
        List<Victim> all = List.of(next, side, sideTmp, raced, archived);

        // The old layout: <backup.dir> enterable, <backup.dir>/<user> the user's own.
        Files.createDirectories(bed.backups());
        Files.setPosixFilePermissions(bed.backups(), PosixFilePermissions.fromString("rwxr-xr-x"));
        Path dir = Files.createDirectories(bed.backups().resolve(ATTACKER));
        Hostile.run(List.of("chown", ATTACKER + ":", dir.toString()));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        String d = dir + "/";
        as("ln", "-s", next.path().toString(), d + NEXT);
        as("ln", "-s", side.path().toString(), d + NEXT + ".sha256");
        as("ln", "-s", sideTmp.path().toString(), d + "." + NEXT + ".sha256.tmp");
        as("cp", bed.database(ATTACKER).toString(), d + OLDER);
        as("mkfifo", d + OLDER + ".sha256");
        as("mkdir", "-p", d + "archive/20260601T000000000Z");
        as("ln", "-s", archived.path().toString(), d + "archive/20260601T000000000Z/state.sqlite");

        SqliteBackups backups = new SqliteBackups(bed.backups(), Clock.fixed(T0, ZoneOffset.UTC));
        BackupInfo taken;
        long swaps;
        try (Racer racer = new Racer(ATTACKER, "swap", dir.toString(), raced.path().toString(), "200", ".", "2026")) {
            // Listing first: the FIFO sidecar must neither hang it nor vouch for the planted copy.
            List<BackupInfo> listed = backups.list(ATTACKER);
            assertEquals(List.of(dir.resolve(OLDER)), listed.stream().map(BackupInfo::path).toList(), "the planted copy is listed, the links are gone");
            assertFalse(listed.get(0).verified(), "a FIFO sidecar vouches for nothing");
            taken = backups.backup(ATTACKER, bed.database(ATTACKER), V);
            swaps = racer.swaps();
        }
        for (Victim v : all) v.assertIntact();

        assertEquals(dir.resolve(NEXT), taken.path());
        assertTrue(taken.verified());
        assertRootOnly(bed.backups());
        assertFalse(Hostile.runAs(ATTACKER, "ls", dir.toString()).ok(), "the user can no longer list their backups");
        assertFalse(Hostile.runAs(ATTACKER, "cat", taken.path().toString()).ok(), "the user can no longer read their backups");
        assertFalse(Hostile.runAs(ATTACKER, "mkfifo", d + "fifo").ok(), "the kernel refuses the user a FIFO there");
        assertFalse(Hostile.runAs(ATTACKER, "ln", "-s", next.path().toString(), d + "link").ok(), "the kernel refuses the user a link there");
        assertFalse(Files.exists(dir.resolve("fifo"), LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(dir.resolve("link"), LinkOption.NOFOLLOW_LINKS));
        for (Victim v : all) v.assertNotIn(bed.backups(), "the backup tree");

        // The actuator still serves everyone else, and lists without a hang.
        assertTrue(backups.backup(OTHER, bed.database(OTHER), V).verified());
        assertEquals(List.of(taken.path(), dir.resolve(OLDER)), backups.list(ATTACKER).stream().map(BackupInfo::path).toList());
        System.out.printf("old layout: the attacker's racer swapped %d entries%n", swaps);
    }

    private static void as(String... argv) throws Exception {
        Hostile.Result r = Hostile.runAs(ATTACKER, argv);
        if (!r.ok()) throw new AssertionError("the attacker's setup step " + List.of(argv) + " failed: " + r.output());
    }

    /** Every directory root's and 0700, every other entry a regular file, root's and 0600. */
    static void assertRootOnly(Path tree) throws Exception {
        try (Stream<Path> all = Files.walk(tree)) {
            for (Path p : all.toList()) {
                boolean isDir = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
                assertTrue(isDir || Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS), p + " is neither a directory nor a regular file");
                assertEquals(0, (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS), p + " owner");
                assertEquals(0, (Integer) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS), p + " group");
                assertEquals(isDir ? "rwx------" : "rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS)), p + " mode");
            }
        }
    }
}
