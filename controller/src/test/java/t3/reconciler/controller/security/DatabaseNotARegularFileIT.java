package t3.reconciler.controller.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.backup.SqliteBackups;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.Version;

/**
 * Issue 12: a user whose database is a symlink (or a FIFO) must be refused as that user's problem
 * ({@link ActuatorException#refusesUserFiles}, so the rollback quarantines them and carries on for the others),
 * promptly (a FIFO must not hang the backup), naming the user and the path, with nothing outside their files changed.
 * The attacker is the bed user, a real unprivileged account.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a safety net: a FIFO opened by mistake would hang, not fail
class DatabaseNotARegularFileIT {
    static final String ATTACKER = "t3sa-fifo1", OTHER = "t3sa-fifo2";
    static final Version V = Version.parse("0.0.25-nightly.20260601.1");
    static AttackBed bed;
    static SqliteBackups backups;
    static BackupInfo mine;

    @BeforeAll
    static void up() throws Exception {
        bed = AttackBed.up(ATTACKER, OTHER);
        backups = new SqliteBackups(bed.backups());
        mine = backups.backup(ATTACKER, bed.database(ATTACKER), V);
        bed.stop(ATTACKER); // a restore's caller stops the server
        as("mv", db().toString(), db() + ".mine");
    }

    @AfterAll
    static void down() throws Exception { if (bed != null) bed.close(); }

    @Test
    void aDatabaseThatIsASymlinkToRootsFileIsRefused() throws Exception {
        Victim victim = Victim.database(bed.dir.resolve("t3sa-victims"), "linked.sqlite");
        as("ln", "-sfn", victim.path().toString(), db().toString());

        assertRefused(() -> backups.backup(ATTACKER, db(), V), "is a symbolic link");
        assertRefused(() -> backups.restore(ATTACKER, mine.path(), db()), "is a symbolic link");

        victim.assertIntact();
        victim.assertNotIn(bed.backups(), "the backup tree");
        assertEquals(victim.path(), Files.readSymbolicLink(db()), "the user's link is left as it was");
        assertUnchangedForEveryoneElse();
        as("rm", "-f", db().toString());
    }

    @Test
    void aDatabaseThatIsAFifoIsRefusedWithoutAHang() throws Exception {
        as("mkfifo", db().toString());

        assertRefused(() -> backups.backup(ATTACKER, db(), V), "is not a regular file");
        assertRefused(() -> backups.restore(ATTACKER, mine.path(), db()), "is not a regular file");

        assertTrue(Files.readAttributes(db(), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther(), "the FIFO is left as it was");
        assertUnchangedForEveryoneElse();
        as("rm", "-f", db().toString());
    }

    /**
     * The race the checks cannot close: a FIFO swapped in after the user's process checked the file, before sqlite3
     * opens it (the racer acts when the snapshot's private directory appears). The open blocks; the bound on the
     * user's step cuts it off and refuses that user, so it holds nobody else up. Bounded tries: the racer nearly
     * always wins, and a lost race is an ordinary backup.
     */
    @Test
    void aFifoSwappedInAfterTheCheckIsCutOffAndRefused() throws Exception {
        SqliteBackups bounded = new SqliteBackups(bed.backups(), java.time.Clock.systemUTC(), java.time.Duration.ofSeconds(5));
        ActuatorException cutOff = null;
        for (int attempt = 0; attempt < 3 && cutOff == null; attempt++) {
            as("rm", "-f", db().toString());
            as("cp", db() + ".mine", db().toString());
            try (Racer racer = new Racer(ATTACKER, "fifo", db().getParent().toString(), db().getFileName().toString(), "1", ".t3-backup-")) {
                try {
                    bounded.backup(ATTACKER, db(), V);
                } catch (ActuatorException e) {
                    assertTrue(e.refusesUserFiles(), "a refusal of the user's files, not " + e);
                    assertTrue(e.getMessage().contains("did not finish") && e.getMessage().contains(ATTACKER) && e.getMessage().contains(db().toString()), e.getMessage());
                    cutOff = e;
                }
                assertEquals(1, racer.count("fifo "), "the racer replaced the database with a FIFO");
            }
        }
        assertTrue(cutOff != null, "in 3 tries the FIFO never landed between the check and the open");
        assertTrue(Files.readAttributes(db(), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther());
        assertTrue(pgrep("sqlite3 .*" + db()).isEmpty(), "the blocked sqlite3 was killed with its step");
        assertUnchangedForEveryoneElse();
        as("rm", "-f", db().toString());
    }

    private static String pgrep(String pattern) throws Exception {
        return Hostile.run(List.of("pgrep", "-f", "-u", ATTACKER, pattern)).output().strip();
    }

    /** Refused as this user's files, naming the user and the path, and neither a backup nor an archive left behind. */
    private static void assertRefused(Executable step, String why) throws Exception {
        List<BackupInfo> before = backups.list(ATTACKER);
        List<Path> archivesBefore = archives();
        ActuatorException e = assertThrows(ActuatorException.class, step);
        assertTrue(e.refusesUserFiles(), "a refusal of the user's files, not " + e);
        assertTrue(e.getMessage().contains(ATTACKER) && e.getMessage().contains(db().toString()) && e.getMessage().contains(why), e.getMessage());
        assertEquals(before, backups.list(ATTACKER));
        assertEquals(archivesBefore, archives());
    }

    private static void assertUnchangedForEveryoneElse() throws Exception {
        BackupDirOwnedByUserIT.assertRootOnly(bed.backups());
        assertTrue(backups.backup(OTHER, bed.database(OTHER), V).verified(), "the actuator still serves everyone else");
        assertTrue(backups.list(ATTACKER).contains(mine), "the user's own backup is still there and verified");
    }

    private static List<Path> archives() throws Exception {
        Path archive = bed.backups().resolve(ATTACKER).resolve("archive");
        if (!Files.isDirectory(archive)) return List.of();
        try (var s = Files.list(archive)) {
            return s.sorted().toList();
        }
    }

    static Path db() { return bed.database(ATTACKER); }

    private static void as(String... argv) throws Exception {
        Hostile.Result r = Hostile.runAs(ATTACKER, argv);
        if (!r.ok()) throw new AssertionError("the attacker's step " + List.of(argv) + " failed: " + r.output());
    }
}
