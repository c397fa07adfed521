package t3.reconciler.controller.actuator.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.Backups.RestoreReport;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.Version;

/** Backups run as root for a real local account ({@value ALICE}), whose database lives in its own home. */
class SqliteBackupsIT {
    static final String ALICE = "t3sa-alice";
    private static final Version V1 = Version.parse("0.0.24"), V2 = Version.parse("0.0.25-nightly.20260608.497");
    private static final Instant T0 = Instant.parse("2026-06-08T10:15:30.123Z");

    @TempDir Path dir;
    Path root, db;

    @BeforeEach
    void setUp() throws Exception {
        root = dir.resolve("backups");
        db = Fixtures.userDb(Files.createDirectories(Fixtures.home(dir, ALICE).resolve(".t3/userdata")).resolve("state.sqlite"));
        Fixtures.giveHome(dir, ALICE);
    }

    private SqliteBackups at(Instant t) { return new SqliteBackups(root, Clock.fixed(t, ZoneOffset.UTC)); }

    @Test
    void backupIsAConsistentSnapshotWhileAnotherConnectionKeepsWriting() throws Exception {
        SqliteBackups backups = new SqliteBackups(root);
        try (Writer writer = new Writer(db)) {
            writer.awaitCommitted(50);
            for (int i = 0; i < 3; i++) {
                long before = writer.committed();
                BackupInfo b = backups.backup(ALICE, db, V1);
                assertEquals("ok", Sqlite.integrity(b.path()));
                long copied = Fixtures.number(b.path(), "SELECT count(*) FROM projection_messages WHERE thread = 't2'");
                assertEquals(copied, Fixtures.number(b.path(), "SELECT messages FROM projection_threads WHERE id = 't2'"), "snapshot is consistent");
                assertEquals(20, Fixtures.number(b.path(), "SELECT count(*) FROM projection_messages WHERE thread = 't1'"));
                assertTrue(copied >= before, "has everything committed before the backup began: " + copied + " < " + before);
                writer.awaitCommitted(copied + 1); // and the writer went on after the snapshot
                assertEquals(Files.size(b.path()), b.bytes());
                assertTrue(b.verified());
            }
        }
        List<BackupInfo> listed = backups.list(ALICE);
        assertEquals(3, listed.size());
        assertTrue(listed.stream().allMatch(BackupInfo::verified));
        assertEquals("ok", Fixtures.sqlite3(null, db, "PRAGMA integrity_check"));
    }

    @Test
    void anOpenWriteTransactionNeitherBlocksNorLeaksIntoTheBackup() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
            s.execute("BEGIN IMMEDIATE");
            s.execute("INSERT INTO projection_messages (thread, body) VALUES ('t2', 'uncommitted')");
            BackupInfo b = at(T0).backup(ALICE, db, V1);
            s.execute("COMMIT");
            assertEquals(0, Fixtures.number(b.path(), "SELECT count(*) FROM projection_messages WHERE body = 'uncommitted'"));
            assertEquals(20, Fixtures.number(b.path(), "SELECT count(*) FROM projection_messages"));
        }
    }

    @Test
    void backupFilesAreNamedAndPrivate() throws Exception {
        BackupInfo first = at(T0).backup(ALICE, db, V2);
        BackupInfo second = at(T0).backup(ALICE, db, V2); // same millisecond: the next free name
        assertEquals(root.resolve(ALICE + "/20260608T101530123Z_0.0.25-nightly.20260608.497.sqlite"), first.path());
        assertEquals(root.resolve(ALICE + "/20260608T101530124Z_0.0.25-nightly.20260608.497.sqlite"), second.path());
        assertEquals(T0, first.takenAt());
        assertEquals("rw-------", perms(first.path()));
        assertEquals("rw-------", perms(Checksums.sidecar(first.path())));
        assertEquals("rwx------", perms(root.resolve(ALICE)));
        assertEquals("rwx------", perms(root));
        try (Stream<Path> files = Files.list(root.resolve(ALICE))) {
            assertEquals(4, files.count(), "two backups and their sidecars, no temp files");
        }
        assertEquals(List.of(second.path(), first.path()), at(T0).list(ALICE).stream().map(BackupInfo::path).toList());
        // The sidecar is sha256sum's own format, so an operator can check a backup by hand.
        assertEquals(first.path().getFileName() + ": OK", Fixtures.run(List.of("sh", "-c", "cd \"$1\" && sha256sum -c \"$2\"", "sh",
                root.resolve(ALICE).toString(), Checksums.sidecar(first.path()).getFileName().toString())));
    }

    @Test
    void listParsesNamesNewestFirstAndIgnoresEverythingElse() throws Exception {
        BackupInfo old = at(T0).backup(ALICE, db, V1);
        BackupInfo mid = at(T0.plusSeconds(60)).backup(ALICE, db, V2);
        BackupInfo newest = at(T0.plusSeconds(3600)).backup(ALICE, db, V1);
        Path u = root.resolve(ALICE);
        for (String junk : List.of("notes.txt", "20260608T101530123Z.sqlite", "20260608T101530123Z_not-a-version.sqlite",
                "2026-06-08_0.0.24.sqlite", ".20260608T101530123Z_0.0.24.sqlite.abc.tmp")) {
            Files.writeString(u.resolve(junk), "x");
        }
        Files.createDirectories(u.resolve("20260608T101530999Z_0.0.24.sqlite")); // a directory with a backup's name
        List<BackupInfo> listed = at(T0).list(ALICE);
        assertEquals(List.of(newest, mid, old), listed);
        assertEquals(V2, listed.get(1).version());
        assertEquals(List.of(), at(T0).list("bob"));
    }

    @Test
    void aCorruptBackupIsNotVerifiedAndIsNeverRestored() throws Exception {
        BackupInfo b = at(T0).backup(ALICE, db, V1);
        SqliteBackups backups = at(T0);
        assertTrue(backups.list(ALICE).get(0).verified());
        try (FileChannel ch = FileChannel.open(b.path(), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {(byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef, 1, 2, 3, 4}), 4096 + 8);
        }
        assertFalse(backups.list(ALICE).get(0).verified(), "the same instance notices the change");
        assertFalse(at(T0).list(ALICE).get(0).verified());
        assertNotEquals("ok", Sqlite.integrity(b.path()));

        byte[] live = Files.readAllBytes(db);
        ActuatorException e = assertThrows(ActuatorException.class, () -> backups.restore(ALICE, b.path(), db));
        assertFalse(e.isTransient());
        assertTrue(e.getMessage().contains("integrity_check"), e.getMessage());
        assertEquals(-1, Files.mismatch(db, writeTemp(live)), "live database untouched");
        assertFalse(Files.exists(root.resolve(ALICE + "/archive")), "nothing archived for a refused restore");
    }

    @Test
    void aFileNeverCheckedIsNotVerifiedAndAnEmptyOneIsNotRestorable() throws Exception {
        BackupInfo b = at(T0).backup(ALICE, db, V1);
        Path copy = b.path().resolveSibling("20260608T111111111Z_0.0.24.sqlite");
        Files.copy(b.path(), copy); // a sound database, but nothing vouches for it
        Path empty = Files.createFile(b.path().resolveSibling("20260608T121212121Z_0.0.24.sqlite"));
        List<BackupInfo> listed = at(T0).list(ALICE);
        assertEquals(List.of(empty, copy, b.path()), listed.stream().map(BackupInfo::path).toList());
        assertEquals(List.of(false, false, true), listed.stream().map(BackupInfo::verified).toList());
        ActuatorException e = assertThrows(ActuatorException.class, () -> at(T0).restore(ALICE, empty, db));
        assertFalse(e.isTransient());
    }

    @Test
    void restoreArchivesTheCurrentDatabaseAndCountsTheProjectionRowsItLoses() throws Exception {
        BackupInfo b = at(T0).backup(ALICE, db, V1);
        // After the backup the server goes on, and stops without checkpointing: some rows live only in the -wal.
        Fixtures.sqlite3(null, db, "-cmd", ".dbconfig no_ckpt_on_close on",
                "INSERT INTO projection_messages (thread, body) VALUES ('t2', 'a'), ('t2', 'b'), ('t2', 'c');"
                        + "DELETE FROM projection_messages WHERE id = 5;"
                        + "INSERT INTO projection_threads (id, title) VALUES ('t3', 'x'), ('t4', 'y');"
                        + "UPDATE projection_threads SET title = 'renamed' WHERE id = 't1';"
                        + "INSERT INTO projection_cursors VALUES ('c', 3);"
                        + "CREATE TABLE projection_new (k TEXT); INSERT INTO projection_new VALUES ('1'), ('2'), ('3'), ('4');"
                        + "INSERT INTO events (payload) VALUES ('not a projection');");
        Path wal = Sqlite.sidecar(db, "-wal");
        assertTrue(Files.size(wal) > 0, "the test needs a -wal with committed rows in it");
        Files.setPosixFilePermissions(db, PosixFilePermissions.fromString("rw-r-----"));
        byte[] oldDb = Files.readAllBytes(db), oldWal = Files.readAllBytes(wal);

        RestoreReport report = at(T0.plusSeconds(60)).restore(ALICE, b.path(), db);

        assertEquals(3 + 2 + 1 + 4, report.projectionRowsLost());
        assertEquals(-1, Files.mismatch(db, b.path()), "the database is now the backup, byte for byte");
        for (String s : Sqlite.SIDECARS) assertFalse(Files.exists(Sqlite.sidecar(db, s)), "stale " + s + " removed");
        assertEquals("rw-r-----", perms(db), "keeps its mode");
        assertEquals(root.resolve(ALICE + "/archive/20260608T101630123Z"), report.archive());
        assertArrayEquals(oldDb, Files.readAllBytes(report.archive().resolve("state.sqlite")));
        assertArrayEquals(oldWal, Files.readAllBytes(report.archive().resolve("state.sqlite-wal")));
        assertEquals("rw-------", perms(report.archive().resolve("state.sqlite")));
        assertEquals("rwx------", perms(report.archive()));
        assertEquals("rwx------", perms(report.archive().getParent()));
        // The archive is a working database with everything the server had written.
        Path scratch = Files.createDirectories(dir.resolve("scratch"));
        Files.copy(report.archive().resolve("state.sqlite"), scratch.resolve("s.sqlite"));
        Files.copy(report.archive().resolve("state.sqlite-wal"), scratch.resolve("s.sqlite-wal"));
        assertEquals("22", Fixtures.sqlite3(null, scratch.resolve("s.sqlite"), "SELECT count(*) FROM projection_messages"));
        // And the restored one opens and works.
        assertEquals("20|ok", Fixtures.sqlite3(null, db, "SELECT count(*) FROM projection_messages; PRAGMA integrity_check;").replace('\n', '|'));

        RestoreReport again = at(T0.plusSeconds(60)).restore(ALICE, b.path(), db);
        assertEquals(0, again.projectionRowsLost());
        assertEquals(root.resolve(ALICE + "/archive/20260608T101630124Z"), again.archive(), "archives are never overwritten");
        assertTrue(Files.exists(report.archive().resolve("state.sqlite-wal")));
    }

    @Test
    void aCorruptCurrentDatabaseIsStillRestoredWithUnknownLoss() throws Exception {
        BackupInfo b = at(T0).backup(ALICE, db, V1);
        Files.write(db, new byte[8192]);
        RestoreReport report = at(T0).restore(ALICE, b.path(), db);
        assertEquals(-1, report.projectionRowsLost());
        assertEquals(-1, Files.mismatch(db, b.path()));
        assertEquals(8192, Files.size(report.archive().resolve("state.sqlite")));
    }

    @Test
    void pruneKeepsTheNewestAndTheProtectedAndNeverTheArchive() throws Exception {
        BackupInfo[] b = new BackupInfo[5];
        for (int i = 0; i < b.length; i++) b[i] = at(T0.plusSeconds(i)).backup(ALICE, db, V1);
        RestoreReport restore = at(T0).restore(ALICE, b[4].path(), db);
        Path stray = Files.writeString(root.resolve(ALICE + "/notes.txt"), "mine");

        // A protected path given in another spelling still counts.
        Path protectedOld = root.resolve(ALICE + "/../" + ALICE).resolve(b[0].path().getFileName());
        List<Path> deleted = at(T0).prune(ALICE, 2, Set.of(protectedOld));

        assertEquals(List.of(b[2].path(), b[1].path()), deleted);
        assertEquals(List.of(b[4].path(), b[3].path(), b[0].path()), at(T0).list(ALICE).stream().map(BackupInfo::path).toList());
        assertFalse(Files.exists(Checksums.sidecar(b[1].path())));
        assertTrue(Files.exists(restore.archive().resolve("state.sqlite")));
        assertTrue(Files.exists(stray));

        assertEquals(List.of(b[4].path(), b[3].path()), at(T0).prune(ALICE, 0, Set.of(b[0].path())));
        assertEquals(List.of(b[0].path()), at(T0).list(ALICE).stream().map(BackupInfo::path).toList());
        assertEquals(List.of(), at(T0).prune("bob", 0, Set.of()));
    }

    @Test
    void refusesWhatIsNotThere() {
        SqliteBackups backups = at(T0);
        ActuatorException missing = assertThrows(ActuatorException.class, () -> backups.backup(ALICE, dir.resolve("nope.sqlite"), V1));
        assertFalse(missing.isTransient());
        assertThrows(ActuatorException.class, () -> backups.backup("../etc", db, V1));
        assertThrows(ActuatorException.class, () -> backups.restore(ALICE, dir.resolve("nope.sqlite"), db));
        assertThrows(ActuatorException.class, () -> backups.list("Alice"));
    }

    @Test
    void aBackupDirThatIsALinkOrNotADirectoryIsRefusedNamingIt() throws Exception {
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
        Files.createSymbolicLink(root, elsewhere);
        ActuatorException linked = assertThrows(ActuatorException.class, () -> at(T0).backup(ALICE, db, V1));
        assertFalse(linked.isTransient());
        assertTrue(linked.getMessage().contains(root + " is a symbolic link"), linked.getMessage());
        assertThrows(ActuatorException.class, () -> at(T0).list(ALICE));
        try (Stream<Path> nothing = Files.list(elsewhere)) {
            assertEquals(0, nothing.count(), "nothing was written through the link");
        }
        Files.delete(root);
        Files.writeString(root, "a file");
        ActuatorException file = assertThrows(ActuatorException.class, () -> at(T0).backup(ALICE, db, V1));
        assertTrue(file.getMessage().contains(root + " is not a directory"), file.getMessage());
    }

    @Test
    void anExistingBackupDirIsMadeRootsAloneOnUse() throws Exception {
        Files.createDirectories(root, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxrwxrwx")));
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxrwxrwx"));
        at(T0).list(ALICE);
        assertEquals("rwx------", perms(root));
    }

    @Test
    void rootIsNeverAUserToActAs() {
        ActuatorException e = assertThrows(ActuatorException.class, () -> at(T0).backup("root", db, V1));
        assertTrue(e.refusesUserFiles(), e.toString());
        assertTrue(e.getMessage().contains("uid/gid 0"), e.getMessage());
    }

    @Test
    void aBackupChangedInItsRowsPassesIntegrityCheckButIsNeverRestored() throws Exception {
        Fixtures.sql(db, "INSERT INTO projection_messages (thread, body) VALUES ('t1', 'the user typed this')");
        BackupInfo b = at(T0).backup(ALICE, db, V1);
        byte[] bytes = Files.readAllBytes(b.path());
        int at = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf("the user typed this");
        assertTrue(at > 0, "the row is in the backup");
        bytes[at] = 'T'; // one letter of the user's text: every page and b-tree stays well-formed
        Files.write(b.path(), bytes);
        assertEquals("ok", Sqlite.integrity(b.path()), "integrity_check cannot see it");
        assertFalse(at(T0).list(ALICE).get(0).verified(), "the sidecar can");

        byte[] live = Files.readAllBytes(db);
        ActuatorException e = assertThrows(ActuatorException.class, () -> at(T0).restore(ALICE, b.path(), db));
        assertFalse(e.isTransient());
        assertTrue(e.getMessage().contains("sha256"), e.getMessage());
        assertEquals(-1, Files.mismatch(db, writeTemp(live)), "live database untouched");
    }

    private Path writeTemp(byte[] bytes) throws Exception {
        return Files.write(Files.createTempFile(dir, "live", ".bin"), bytes);
    }

    private static String perms(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }
}
