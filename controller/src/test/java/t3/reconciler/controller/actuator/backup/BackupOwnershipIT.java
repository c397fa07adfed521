package t3.reconciler.controller.actuator.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.actuator.Backups.RestoreReport;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.Version;

/**
 * The controller runs as root; a user's server runs as the user. Everything in the user's directory stays the user's
 * (the backup leaves nothing behind there, the restored database is theirs); backups and archives are root's alone.
 * Checked with a real system account created for the test.
 */
class BackupOwnershipIT {
    private static final Version V1 = Version.parse("0.0.24");

    @TempDir Path dir;
    String user;
    Path userdata, db, root;

    @BeforeEach
    void createUser() throws Exception {
        assertTrue("root".equals(System.getProperty("user.name")), "needs root to create a user and chown: run it as root (the suite runs as root; it does not skip)");
        byte[] b = new byte[4];
        new SecureRandom().nextBytes(b);
        user = "t3bk-" + HexFormat.of().formatHex(b);
        Fixtures.run(List.of("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x")); // @TempDir is 0700: let the user in
        Path home = Files.createDirectories(dir.resolve("home").resolve(user));
        userdata = Files.createDirectories(home.resolve(".t3/userdata"));
        Fixtures.run(List.of("chown", "-R", user + ":", home.toString()));
        db = userdata.resolve("state.sqlite");
        // Created by the user's own process, as the server would.
        Fixtures.sqlite3(user, db, "PRAGMA journal_mode = WAL; CREATE TABLE projection_threads (id TEXT PRIMARY KEY); "
                + "INSERT INTO projection_threads VALUES ('t1'), ('t2');");
        root = dir.resolve("backups");
    }

    @AfterEach
    void removeUser() throws Exception {
        if (user != null) Fixtures.run(List.of("userdel", user));
    }

    @Test
    void everythingCreatedForTheUserIsTheUsers() throws Exception {
        SqliteBackups backups = new SqliteBackups(root);
        assertTrue(Files.notExists(Sqlite.sidecar(db, "-wal")), "the server is stopped: no -wal yet, so the backup's open makes one");

        BackupInfo b = backups.backup(user, db, V1);

        assertOwned(b.path(), "root", "rw-------");
        assertOwned(Checksums.sidecar(b.path()), "root", "rw-------");
        assertOwned(root.resolve(user), "root", "rwx------");
        assertOwned(root, "root", "rwx------");
        assertAllOwned(userdata);
        try (Stream<Path> files = Files.list(userdata)) {
            assertEquals(List.of("state.sqlite", "state.sqlite-shm", "state.sqlite-wal"),
                    files.map(p -> p.getFileName().toString()).sorted().toList(), "the user-side snapshot leaves no temp behind");
        }
        // The user's server can still open and write its database.
        Fixtures.sqlite3(user, db, "INSERT INTO projection_threads VALUES ('t3');");

        RestoreReport report = backups.restore(user, b.path(), db);

        assertEquals(1, report.projectionRowsLost());
        assertOwned(db, user, "rw-r--r--");
        assertAllOwned(userdata);
        assertOwned(report.archive(), "root", "rwx------");
        assertOwned(report.archive().getParent(), "root", "rwx------");
        try (Stream<Path> archived = Files.list(report.archive())) {
            for (Path p : archived.toList()) assertOwned(p, "root", "rw-------");
        }
        assertEquals("2", Fixtures.sqlite3(user, db, "INSERT INTO projection_threads VALUES ('t4'); SELECT count(*) FROM projection_threads WHERE id <> 't4';"));

        BackupInfo second = backups.backup(user, db, V1);
        assertEquals(List.of(b.path()), backups.prune(user, 1, Set.of()));
        assertOwned(second.path(), "root", "rw-------");
        assertAllOwned(userdata);
    }

    private void assertAllOwned(Path directory) throws Exception {
        try (Stream<Path> files = Files.list(directory)) {
            for (Path p : files.toList()) {
                assertEquals(user, Files.getOwner(p, LinkOption.NOFOLLOW_LINKS).getName(), p + " must be the user's");
            }
        }
    }

    private static void assertOwned(Path p, String owner, String mode) throws Exception {
        PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        assertEquals(owner, a.owner().getName(), p + " owner");
        assertEquals(owner, a.group().getName(), p + " group");
        assertEquals(mode, PosixFilePermissions.toString(a.permissions()), p + " mode");
    }
}
