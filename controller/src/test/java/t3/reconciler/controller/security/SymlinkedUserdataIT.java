package t3.reconciler.controller.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.backup.SqliteBackups;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.Version;

/**
 * Issue 12, attack 3: only the last component of the database path was checked, so {@code ~/.t3/userdata} as a
 * symlink to a root-only directory got root to back up a root-only database (and, raced with a rename exchange,
 * to hand the copy to the user). The attacker is the bed user, a real unprivileged account; the snapshot now runs as
 * them, so the kernel stops them at the directory they cannot enter.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES) // a safety net for a wedged bed, not part of any assertion
class SymlinkedUserdataIT {
    static final String ATTACKER = "t3sa-link1", OTHER = "t3sa-link2";
    static final Version V = Version.parse("0.0.25-nightly.20260601.1");
    static final int RACED_BACKUPS = 15;
    static AttackBed bed;
    static Victim secret;
    static SqliteBackups backups;

    @BeforeAll
    static void up() throws Exception {
        bed = AttackBed.up(ATTACKER, OTHER);
        secret = Victim.database(bed.dir.resolve("t3sa-secret"), "state.sqlite");
        Files.setPosixFilePermissions(secret.path().getParent(), PosixFilePermissions.fromString("rwx------")); // root-only
        backups = new SqliteBackups(bed.backups());
        bed.stop(ATTACKER); // its server would keep recreating userdata/ under the attacker's feet
        as(ATTACKER, "mv", userdata(ATTACKER).toString(), real().toString());
    }

    @AfterAll
    static void down() throws Exception { if (bed != null) bed.close(); }

    /** Each attack leaves {@code userdata} as it found it: gone (the real one is aside as {@code userdata.real}). */
    @AfterEach
    void clean() throws Exception {
        Hostile.runAs(ATTACKER, "rm", "-f", userdata(ATTACKER).toString(), link().toString());
        secret.assertIntact();
        secret.assertNotIn(bed.backups(), "the backup tree");
        BackupDirOwnedByUserIT.assertRootOnly(bed.backups());
        assertTrue(backups.backup(OTHER, bed.database(OTHER), V).verified(), "the actuator still serves everyone else");
    }

    @Test
    void userdataLinkedToARootOnlyDirectoryIsRefused() throws Exception {
        as(ATTACKER, "ln", "-s", secret.path().getParent().toString(), userdata(ATTACKER).toString());
        assertRefused();
    }

    @Test
    void userdataLinkedToAnotherUsersIsRefused() throws Exception {
        String marker = "t3sa-others-" + UUID.randomUUID();
        Hostile.Result r = Hostile.runAs(OTHER, "sqlite3", "-cmd", ".timeout 5000", bed.database(OTHER).toString(),
                "INSERT INTO projection_threads (id, title, created_at) VALUES ('t3sa', '" + marker + "', datetime('now'));");
        assertTrue(r.ok(), r.output());
        as(ATTACKER, "ln", "-s", userdata(OTHER).toString(), userdata(ATTACKER).toString());
        assertRefused();
        for (BackupInfo b : backups.list(ATTACKER)) {
            assertFalse(new String(Files.readAllBytes(b.path()), StandardCharsets.ISO_8859_1).contains(marker), b.path() + " holds " + OTHER + "'s data");
        }
    }

    /** renameat2(RENAME_EXCHANGE) of the real directory and the link, as fast as the attacker can, during the backups. */
    @Test
    void aRenameExchangeRaceNeverYieldsTheSecret() throws Exception {
        as(ATTACKER, "mv", real().toString(), userdata(ATTACKER).toString());
        as(ATTACKER, "ln", "-s", secret.path().getParent().toString(), link().toString());
        int ok = 0, refused = 0, transientFaults = 0;
        String exchanged, firstRefusal = "";
        try (Racer racer = new Racer(ATTACKER, "exchange", userdata(ATTACKER).getParent().toString(), "userdata", "userdata.link", "20000000")) {
            for (int i = 0; i < RACED_BACKUPS; i++) {
                try {
                    BackupInfo b = backups.backup(ATTACKER, bed.database(ATTACKER), V);
                    assertFalse(secret.contains(b.path()), "backup " + b.path() + " holds the root-only secret");
                    ok++;
                } catch (ActuatorException e) {
                    assertTrue(e.refusesUserFiles() || e.isTransient(), "neither a refusal of the user's files nor an outage: " + e);
                    if (e.refusesUserFiles()) {
                        if (refused++ == 0) firstRefusal = e.getMessage();
                    } else {
                        transientFaults++;
                    }
                }
            }
            exchanged = String.join(" ", racer.finish());
        }
        // Put the real directory back where a later test expects it (aside), whichever way the race left it.
        Path parent = userdata(ATTACKER).getParent();
        Path realNow = Files.isSymbolicLink(parent.resolve("userdata")) ? parent.resolve("userdata.link") : parent.resolve("userdata");
        as(ATTACKER, "mv", realNow.toString(), real().toString());
        System.out.printf("exchange race: %d backups ok, %d refused, %d transient; racer: %s; first refusal: %s%n", ok, refused, transientFaults, exchanged, firstRefusal);
        assertEquals(RACED_BACKUPS, ok + refused + transientFaults);
    }

    private static void assertRefused() throws Exception {
        int before = backups.list(ATTACKER).size();
        ActuatorException e = assertThrows(ActuatorException.class, () -> backups.backup(ATTACKER, bed.database(ATTACKER), V));
        assertTrue(e.refusesUserFiles(), "a refusal of the user's files, not " + e);
        assertTrue(e.getMessage().contains(ATTACKER) && e.getMessage().contains(bed.database(ATTACKER).toString()), e.getMessage());
        assertEquals(before, backups.list(ATTACKER).size(), "no backup was taken");
    }

    static Path userdata(String user) { return bed.database(user).getParent(); }

    static Path real() { return userdata(ATTACKER).resolveSibling("userdata.real"); }

    static Path link() { return userdata(ATTACKER).resolveSibling("userdata.link"); }

    private static void as(String user, String... argv) throws Exception {
        Hostile.Result r = Hostile.runAs(user, argv);
        if (!r.ok()) throw new AssertionError("the attacker's step " + List.of(argv) + " failed: " + r.output());
    }
}
