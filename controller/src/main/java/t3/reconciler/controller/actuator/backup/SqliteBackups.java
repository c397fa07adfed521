package t3.reconciler.controller.actuator.backup;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.Backups;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.User;
import t3.reconciler.model.Version;

/**
 * {@link Backups} of users' t3 databases with sqlite-jdbc, under {@code <root>/<user>/}. A backup is an online
 * {@code VACUUM INTO} (a consistent snapshot even while the server writes), checked by {@code integrity_check},
 * fsynced and renamed into place, with a {@code .sha256} sidecar that {@link #list} uses for {@code verified}.
 * Everything created for a user belongs to the owner of the user's database (0600 files, 0700 directories).
 */
public final class SqliteBackups implements Backups {
    public static final Path DEFAULT_ROOT = Path.of("/var/backups/t3-state");
    static final String ARCHIVE = "archive";

    private final Path root;
    private final Clock clock;
    private final Checksums checksums = new Checksums();
    private final SecureRandom random = new SecureRandom();

    public SqliteBackups(Path root) { this(root, Clock.systemUTC()); }

    /** @param clock names backups and archives; tests pin it to get known names */
    public SqliteBackups(Path root, Clock clock) {
        this.root = root.toAbsolutePath().normalize();
        this.clock = clock;
    }

    @Override
    public synchronized BackupInfo backup(String user, Path database, Version onVersion) throws ActuatorException {
        requireUser(user);
        Owner owner = ownerOfDatabase(user, database);
        Path tmp = null;
        try {
            Path dir = userDir(user, owner);
            BackupName name = freeName(dir, onVersion);
            Path target = dir.resolve(name.fileName());
            // SQLite accepts an empty file as VACUUM INTO's target: creating it first makes it the user's, 0600,
            // before a byte is in it, and the random name keeps a concurrent backup from sharing it.
            tmp = owner.newFile(dir.resolve("." + name.fileName() + "." + token() + ".tmp"));
            vacuumInto(database, tmp, owner);
            String integrity = Sqlite.integrity(tmp);
            if (!integrity.equals("ok")) {
                throw ActuatorException.verdict("backup of " + user + "'s database " + database + " fails integrity_check: " + integrity);
            }
            Owner.sync(tmp);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            tmp = null;
            Checksums.write(target, owner);
            Owner.sync(dir);
            return new BackupInfo(user, target, onVersion, name.takenAt(), Files.size(target), true);
        } catch (IOException e) {
            throw ActuatorException.transientFault("cannot back up " + user + "'s database " + database + ": " + e, e);
        } catch (SQLException e) {
            throw sqlFault("cannot back up " + user + "'s database " + database, e);
        } finally {
            if (tmp != null) deleteQuietly(tmp);
        }
    }

    /** On a dedicated read-only connection in autocommit: VACUUM INTO reads one snapshot, so writers go on. */
    private static void vacuumInto(Path database, Path target, Owner owner) throws SQLException, IOException {
        try (Connection c = Sqlite.live(database); PreparedStatement p = c.prepareStatement("VACUUM INTO ?")) {
            p.setString(1, target.toString());
            p.execute();
        } finally {
            Sqlite.adoptSidecars(database, owner);
        }
    }

    @Override
    public synchronized List<BackupInfo> list(String user) throws ActuatorException {
        requireUser(user);
        Path dir = root.resolve(user);
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) return List.of();
        List<BackupInfo> out = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path p : files) {
                Optional<BackupName> name = BackupName.parse(p.getFileName().toString());
                if (name.isEmpty() || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) continue;
                out.add(new BackupInfo(user, p, name.get().version(), name.get().takenAt(), Files.size(p), checksums.verified(p)));
            }
        } catch (IOException e) {
            throw ActuatorException.transientFault("cannot list " + user + "'s backups in " + dir + ": " + e, e);
        }
        out.sort(Comparator.comparing(BackupInfo::takenAt).thenComparing(b -> b.path().getFileName().toString()).reversed());
        return out;
    }

    @Override
    public synchronized RestoreReport restore(String user, Path backup, Path database) throws ActuatorException {
        requireUser(user);
        if (!Files.isRegularFile(backup, LinkOption.NOFOLLOW_LINKS)) throw ActuatorException.verdict("no backup file " + backup);
        String integrity = Sqlite.integrity(backup);
        if (!integrity.equals("ok")) {
            throw ActuatorException.verdict("refusing to restore " + backup + " over " + user + "'s database: it fails integrity_check: " + integrity);
        }
        // integrity_check sees a broken b-tree, not a changed byte in a row: the sidecar is what vouches for the content.
        if (!checksums.verified(backup)) {
            throw ActuatorException.verdict("refusing to restore " + backup + " over " + user + "'s database: its sha256 sidecar "
                    + Checksums.sidecar(backup).getFileName() + " is missing or no longer matches (changed since it was taken)");
        }
        if (Files.isSymbolicLink(database)) throw ActuatorException.verdict(user + "'s database " + database + " is a symbolic link; refusing to replace it");
        Path tmp = null;
        try {
            boolean exists = Files.exists(database, LinkOption.NOFOLLOW_LINKS);
            // A missing database takes its owner from its directory (the user's), and the server's usual mode.
            Owner owner = Owner.of(exists ? database : database.getParent());
            Set<PosixFilePermission> mode = exists ? Files.getPosixFilePermissions(database, LinkOption.NOFOLLOW_LINKS) : Owner.FILE;
            Path archive = archive(user, database, owner);
            long lost = exists ? projectionRowsLost(database, backup, owner) : 0;

            tmp = owner.newFile(database.resolveSibling("." + database.getFileName() + ".restore-" + token() + ".tmp"));
            try (InputStream in = Files.newInputStream(backup); OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.TRUNCATE_EXISTING)) {
                in.transferTo(out);
            }
            Files.setPosixFilePermissions(tmp, mode);
            Owner.sync(tmp);
            String copied = Sqlite.integrity(tmp);
            if (!copied.equals("ok")) throw ActuatorException.verdict("the copy of " + backup + " fails integrity_check: " + copied);
            // Sidecars go before the rename: a -wal or hot -journal left beside the restored file would be replayed
            // into it as if it were its own, corrupting it. They are in the archive.
            for (String suffix : Sqlite.SIDECARS) Files.deleteIfExists(Sqlite.sidecar(database, suffix));
            Files.move(tmp, database, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            tmp = null;
            Owner.sync(database.getParent());
            return new RestoreReport(archive, lost);
        } catch (IOException e) {
            throw ActuatorException.transientFault("cannot restore " + backup + " over " + user + "'s database " + database + ": " + e, e);
        } finally {
            if (tmp != null) deleteQuietly(tmp);
        }
    }

    /** Copies (never moves) the database and its sidecars byte for byte: the -wal may hold committed rows. */
    private Path archive(String user, Path database, Owner owner) throws IOException {
        Path dir = owner.dir(userDir(user, owner).resolve(ARCHIVE));
        Instant at = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        while (Files.exists(dir.resolve(BackupName.stamp(at)), LinkOption.NOFOLLOW_LINKS)) at = at.plusMillis(1);
        Path archive = owner.dir(dir.resolve(BackupName.stamp(at)));
        List<String> suffixes = new ArrayList<>(List.of(""));
        suffixes.addAll(Sqlite.SIDECARS);
        for (String suffix : suffixes) {
            Path from = Sqlite.sidecar(database, suffix);
            if (!Files.isRegularFile(from, LinkOption.NOFOLLOW_LINKS)) continue;
            Path to = owner.newFile(archive.resolve(from.getFileName()));
            try (InputStream in = Files.newInputStream(from); OutputStream out = Files.newOutputStream(to, StandardOpenOption.TRUNCATE_EXISTING)) {
                in.transferTo(out);
            }
            Owner.sync(to);
        }
        Owner.sync(archive);
        Owner.sync(dir);
        return archive;
    }

    /** -1 when the current database cannot be read: a corrupt database must still be restorable. */
    private static long projectionRowsLost(Path database, Path backup, Owner owner) throws IOException {
        try {
            return ProjectionLoss.count(database, backup);
        } catch (SQLException e) {
            return -1;
        } finally {
            Sqlite.adoptSidecars(database, owner);
        }
    }

    @Override
    public synchronized List<Path> prune(String user, int keep, Set<Path> protect) throws ActuatorException {
        if (keep < 0) throw new IllegalArgumentException("keep must not be negative: " + keep);
        Set<Path> kept = protect.stream().map(p -> p.toAbsolutePath().normalize()).collect(Collectors.toSet());
        List<BackupInfo> all = list(user);
        List<Path> deleted = new ArrayList<>();
        try {
            for (BackupInfo b : all.subList(Math.min(keep, all.size()), all.size())) {
                if (kept.contains(b.path().toAbsolutePath().normalize())) continue;
                Files.deleteIfExists(b.path());
                Files.deleteIfExists(Checksums.sidecar(b.path()));
                checksums.forget(b.path());
                deleted.add(b.path());
            }
        } catch (IOException e) {
            throw ActuatorException.transientFault("cannot prune " + user + "'s backups (deleted " + deleted + "): " + e, e);
        }
        return deleted;
    }

    private Owner ownerOfDatabase(String user, Path database) throws ActuatorException {
        if (!Files.isRegularFile(database, LinkOption.NOFOLLOW_LINKS)) {
            throw ActuatorException.verdict(user + "'s database " + database + " does not exist or is not a regular file");
        }
        try {
            return Owner.of(database);
        } catch (IOException e) {
            throw ActuatorException.transientFault("cannot read the owner of " + database + ": " + e, e);
        }
    }

    /** {@code <root>} is the controller's (0700 when we make it); {@code <root>/<user>} is the user's. */
    private Path userDir(String user, Owner owner) throws IOException {
        if (!Files.isDirectory(root)) {
            Files.createDirectories(root.getParent());
            try {
                Files.createDirectory(root, Owner.attr(Owner.DIR));
            } catch (FileAlreadyExistsException e) {
                if (!Files.isDirectory(root)) throw e;
            }
        }
        return owner.dir(root.resolve(user));
    }

    private BackupName freeName(Path dir, Version v) {
        Instant at = clock.instant();
        BackupName name = new BackupName(at, v);
        while (Files.exists(dir.resolve(name.fileName()), LinkOption.NOFOLLOW_LINKS)) name = new BackupName(name.takenAt().plusMillis(1), v);
        return name;
    }

    private String token() {
        byte[] b = new byte[6];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static void requireUser(String user) throws ActuatorException {
        if (!User.isValidName(user)) throw ActuatorException.verdict("'" + user + "' is not a valid user name");
    }

    private static ActuatorException sqlFault(String what, SQLException e) {
        SQLiteErrorCode code = e instanceof SQLiteException s ? s.getResultCode() : SQLiteErrorCode.UNKNOWN_ERROR;
        String message = what + ": " + e.getMessage();
        return switch (code.code & 0xff) { // primary result code
            case 5, 6, 10, 13, 14 -> ActuatorException.transientFault(message, e); // BUSY, LOCKED, IOERR, FULL, CANTOPEN
            default -> new ActuatorException(message, false, e); // CORRUPT, NOTADB and the rest are verdicts
        };
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a leftover dot-file temp is ignored by list() and harmless
        }
    }
}
