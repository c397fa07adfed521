package t3.reconciler.controller.security;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.backup.SqliteBackups;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.Version;

/**
 * Issue 12, attack 1: a restore wrote through a symlink the user swapped in for its temp file. The attacker (the bed
 * user whose database is restored, a real unprivileged account) watches their userdata directory with inotify and
 * replaces every new temp entry with a symlink to a root-only file, during {@value #RESTORES} restores of their own
 * database. Root's file must come out byte for byte as it was, nothing of it may reach the user, and every restore
 * either succeeds (leaving a regular file of the user's) or refuses that user's files; other users are unaffected.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES) // a safety net for a wedged bed, not part of any assertion
class RestoreThroughPlantedSymlinkIT {
    static final String ATTACKER = "t3sa-restore1", OTHER = "t3sa-restore2";
    static final int RESTORES = 20;
    static final Version V = Version.parse("0.0.25-nightly.20260601.1");
    static AttackBed bed;

    @BeforeAll
    static void up() throws Exception { bed = AttackBed.up(ATTACKER, OTHER); }

    @AfterAll
    static void down() throws Exception { if (bed != null) bed.close(); }

    @Test
    void swappingTheRestoreTempForASymlinkNeverReachesRootsFile() throws Exception {
        Victim victim = Victim.file(bed.dir.resolve("t3sa-victims"), "restore-target");
        SqliteBackups backups = new SqliteBackups(bed.backups());
        BackupInfo backup = backups.backup(ATTACKER, bed.database(ATTACKER), V);
        byte[] restored = Files.readAllBytes(backup.path());
        bed.stop(ATTACKER);
        Path db = bed.database(ATTACKER), userdata = db.getParent();

        int ok = 0, refused = 0;
        long swaps;
        try (Racer racer = new Racer(ATTACKER, "swap", userdata.toString(), victim.path().toString(), "500", ".state.sqlite.", ".t3-")) {
            for (int i = 0; i < RESTORES; i++) {
                try {
                    backups.restore(ATTACKER, backup.path(), db);
                    victim.assertIntact();
                    ok++;
                    assertTrue(Files.isRegularFile(db, LinkOption.NOFOLLOW_LINKS), "after a restore, " + db + " is a regular file");
                    assertEquals(ATTACKER, Files.getOwner(db, LinkOption.NOFOLLOW_LINKS).getName());
                    assertArrayEquals(restored, Files.readAllBytes(db), "a successful restore put the backup in place");
                } catch (ActuatorException e) {
                    assertTrue(e.refusesUserFiles(), "a failed restore is a refusal of the user's files, not " + e);
                    assertTrue(e.getMessage().contains(ATTACKER), e.getMessage());
                    refused++;
                }
                victim.assertIntact();
                assertAllTheUsers(userdata);
            }
            swaps = racer.swaps();
        }
        assertTrue(swaps > 0, "the attacker's racer swapped nothing: the attack was not exercised");
        assertEquals(RESTORES, ok + refused);
        victim.assertNotIn(userdata, "the attacker's directory");

        // The actuator still serves everyone else.
        BackupInfo other = backups.backup(OTHER, bed.database(OTHER), V);
        assertTrue(other.verified());
        assertTrue(backups.list(ATTACKER).stream().anyMatch(b -> b.path().equals(backup.path()) && b.verified()));
        System.out.printf("restore race: %d restores, %d ok, %d refused, %d swaps by the attacker%n", RESTORES, ok, refused, swaps);
    }

    /** Nothing root's appeared in the user's directory: every entry (links included, not followed) is the user's. */
    static void assertAllTheUsers(Path dir) throws Exception {
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path p : entries.toList()) {
                assertEquals(ATTACKER, Files.getOwner(p, LinkOption.NOFOLLOW_LINKS).getName(), p + " must be the user's");
            }
        }
    }
}
