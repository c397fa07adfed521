package t3.reconciler.controller.actuator.backup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.Backups;
import t3.reconciler.controller.actuator.proc.Account;
import t3.reconciler.controller.actuator.proc.FileTrees;
import t3.reconciler.controller.crash.CrashPoints;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.User;
import t3.reconciler.model.Version;

/**
 * {@link Backups} of users' t3 databases under {@code <root>/<user>/}, a tree only root can enter ({@link BackupTree}).
 * A backup is an online {@code VACUUM INTO} (a consistent snapshot even while the server writes) taken by the user's
 * own process and streamed to root ({@link UserSide}), checked by {@code integrity_check}, fsynced and renamed into
 * place, with a {@code .sha256} sidecar that {@link #list} uses for {@code verified}. Backups and archives are root's
 * (0600 files, 0700 directories); a restored database is written by the user, so it is theirs.
 *
 * <p>Users are the local accounts of the same name ({@link Account#unprivileged}): never root, and never whoever
 * happens to own a file. A user whose files are refused (a link, a FIFO, a directory they cannot reach) gets
 * {@link ActuatorException#refusedUserFiles}, a verdict about them alone.
 */
public final class SqliteBackups implements Backups {
    public static final Path DEFAULT_ROOT = Path.of("/var/backups/t3-state");
    static final String ARCHIVE = "archive";
    /** Bounds one user-side step: a FIFO swapped in at the last moment would block it for ever. */
    static final Duration DEFAULT_USER_STEP_TIMEOUT = Duration.ofMinutes(10);
    /** What an archive holds: the database and its sidecars. */
    private static final List<String> ALL_FILES = Stream.concat(Stream.of(""), Sqlite.SIDECARS.stream()).toList();

    /**
     * Hashes copies beside their integrity_check: up to four at once (a batch backs up several users), daemon threads
     * made on first use that end after 30 s idle. Core threads, not a zero core: with an unbounded queue a pool only
     * grows past its core when the queue is full, so a zero core would hash one copy at a time.
     */
    private static final ThreadPoolExecutor HASHER = new ThreadPoolExecutor(4, 4, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
        Thread t = new Thread(r, "backup-sha256");
        t.setDaemon(true);
        return t;
    });

    static {
        HASHER.allowCoreThreadTimeOut(true);
    }
    private final BackupTree tree;
    private final Clock clock;
    private final Duration userStepTimeout;
    private final Checksums checksums = new Checksums();
    private final Map<String, Object> userLocks = new ConcurrentHashMap<>();
    /** The crash matrix's point between a restore's archive and its replace; none unless wired in. */
    private final CrashPoints crash;

    public SqliteBackups(Path root) { this(root, Clock.systemUTC()); }

    /** @param clock names backups and archives; tests pin it to get known names */
    public SqliteBackups(Path root, Clock clock) { this(root, clock, DEFAULT_USER_STEP_TIMEOUT, CrashPoints.none()); }

    /** @param crash where a crash-matrix run may stop the process ({@code restore-archived}) */
    public SqliteBackups(Path root, CrashPoints crash) { this(root, Clock.systemUTC(), DEFAULT_USER_STEP_TIMEOUT, crash); }

    /** @param userStepTimeout bounds each step a user's process does; past it, that user's files are refused */
    public SqliteBackups(Path root, Clock clock, Duration userStepTimeout) { this(root, clock, userStepTimeout, CrashPoints.none()); }

    private SqliteBackups(Path root, Clock clock, Duration userStepTimeout, CrashPoints crash) {
        this.tree = new BackupTree(root);
        this.clock = clock;
        this.userStepTimeout = userStepTimeout;
        this.crash = crash;
    }

    @Override
    public BackupInfo backup(String user, Path database, Version onVersion) throws ActuatorException {
        requireUser(user);
        synchronized (lock(user)) {
            return backupLocked(user, database, onVersion);
        }
    }

    private BackupInfo backupLocked(String user, Path database, Version onVersion) throws ActuatorException {
        Account account = account(user);
        Path dir = null, tmp = null;
        try {
            dir = tree.userDir(user);
            BackupName name = freeName(dir, onVersion);
            Path target = dir.resolve(name.fileName());
            tmp = tree.newFile(dir, "." + name.fileName() + ".tmp-");
            UserSide.Result r = UserSide.run(account, UserSide.SNAPSHOT, List.of(absolute(database).toString()), null, tmp, userStepTimeout);
            if (!r.ok()) throw userSideFailure("back up", user, database, r);
            // Both read the whole copy: side by side they cost one read's time on a large database. The hash is
            // written to the sidecar only once integrity_check passed, as before.
            Path copy = tmp;
            CompletableFuture<String> sha = CompletableFuture.supplyAsync(() -> {
                try {
                    return Checksums.sha256(copy);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, HASHER);
            String integrity = Sqlite.integrity(tmp);
            String hash = join(sha);
            if (!integrity.equals("ok")) {
                throw ActuatorException.verdict("backup of " + user + "'s database " + database + " fails integrity_check: " + integrity);
            }
            BackupTree.sync(tmp);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            tmp = null;
            Checksums.write(target, hash, tree);
            return new BackupInfo(user, target, onVersion, name.takenAt(), Files.size(target), true);
        } catch (BackupTree.Unsafe e) {
            throw ActuatorException.verdict("cannot back up " + user + "'s database: " + e.getMessage());
        } catch (IOException e) {
            throw ActuatorException.transientFault("cannot back up " + user + "'s database " + database + ": " + e, e);
        } finally {
            deleteQuietly(tmp);
        }
    }

    @Override
    public List<BackupInfo> list(String user) throws ActuatorException {
        requireUser(user);
        synchronized (lock(user)) {
            return listLocked(user);
        }
    }

    private List<BackupInfo> listLocked(String user) throws ActuatorException {
        List<BackupInfo> out = new ArrayList<>();
        Optional<Path> found;
        try {
            found = tree.existingUserDir(user);
        } catch (BackupTree.Unsafe e) {
            throw ActuatorException.verdict("cannot list " + user + "'s backups: " + e.getMessage());
        } catch (IOException e) {
            throw ActuatorException.transientFault("cannot list " + user + "'s backups in " + tree.root() + ": " + e, e);
        }
        if (found.isEmpty()) return List.of();
        Path dir = found.get();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path p : files) {
                Optional<BackupName> name = BackupName.parse(p.getFileName().toString());
                if (name.isEmpty() || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) continue;
                out.add(new BackupInfo(user, p, name.get().version(), name.get().takenAt(), Files.size(p), checksums.verified(p)));
            }
            checksums.remember(dir, tree);
        } catch (IOException e) {
            throw ActuatorException.transientFault("cannot list " + user + "'s backups in " + dir + ": " + e, e);
        }
        out.sort(Comparator.comparing(BackupInfo::takenAt).thenComparing(b -> b.path().getFileName().toString()).reversed());
        return out;
    }

    @Override
    public RestoreReport restore(String user, Path backup, Path database) throws ActuatorException {
        requireUser(user);
        synchronized (lock(user)) {
            return restoreLocked(user, backup, database);
        }
    }

    private RestoreReport restoreLocked(String user, Path backup, Path database) throws ActuatorException {
        // Root reads the backup (checks, and the user's stdin): only ever a file of our own tree.
        if (!backup.toAbsolutePath().normalize().startsWith(tree.root().resolve(user))) {
            throw ActuatorException.verdict("refusing to restore " + backup + " over " + user + "'s database: it is not one of their backups in " + tree.root().resolve(user));
        }
        if (!Files.isRegularFile(backup, LinkOption.NOFOLLOW_LINKS)) throw ActuatorException.verdict("no backup file " + backup);
        String integrity = Sqlite.integrity(backup);
        if (!integrity.equals("ok")) {
            throw ActuatorException.verdict("refusing to restore " + backup + " over " + user + "'s database: it fails integrity_check: " + integrity);
        }
        // integrity_check sees a broken b-tree, not a changed byte in a row: the sidecar is what vouches for the content.
        Optional<String> sha;
        try {
            sha = checksums.expected(backup);
        } catch (IOException e) {
            throw ActuatorException.transientFault("cannot read the sha256 sidecar of " + backup + ": " + e, e);
        }
        if (sha.isEmpty()) {
            throw ActuatorException.verdict("refusing to restore " + backup + " over " + user + "'s database: its sha256 sidecar "
                    + Checksums.sidecar(backup).getFileName() + " is missing or no longer matches (changed since it was taken)");
        }
        Account account = account(user);
        database = absolute(database);
        try {
            Path dir = tree.userDir(user);
            Archived archived = archive(user, account, database, dir);
            long lost = archived.database() ? projectionRowsLost(archived.dir(), database.getFileName().toString(), backup, dir) : 0;
            // Archived, not yet replaced: Recovery's redo archives again and replaces, so both copies are kept.
            crash.at("restore-archived");
            UserSide.Result r = UserSide.run(account, UserSide.REPLACE, List.of(database.toString(), sha.get()), backup, null, userStepTimeout);
            if (!r.ok()) throw userSideFailure("restore " + backup.getFileName() + " over", user, database, r);
            return new RestoreReport(archived.dir(), lost);
        } catch (BackupTree.Unsafe e) {
            throw ActuatorException.verdict("cannot restore " + user + "'s database: " + e.getMessage());
        } catch (IOException e) {
            throw ActuatorException.transientFault("cannot restore " + backup + " over " + user + "'s database " + database + ": " + e, e);
        }
    }

    /** @param database whether the database itself was there to archive (its sidecars are archived when regular files) */
    private record Archived(Path dir, boolean database) {}

    /**
     * Copies (never moves) the database and its sidecars byte for byte into {@code archive/<stamp>/}: the -wal may
     * hold committed rows. Each file is read by the user's process into a file root created: a link or a FIFO at
     * the database's name refuses the restore; at a sidecar's, it is not archived (the restore removes it).
     */
    private Archived archive(String user, Account account, Path database, Path userDir) throws IOException, ActuatorException {
        Path parent;
        try {
            parent = tree.newDir(userDir, ARCHIVE);
        } catch (FileAlreadyExistsException e) {
            parent = userDir.resolve(ARCHIVE); // already taken back with the rest of userDir
        }
        Instant at = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        Path archive;
        while (true) {
            try {
                archive = tree.newDir(parent, BackupName.stamp(at));
                break;
            } catch (FileAlreadyExistsException e) {
                at = at.plusMillis(1);
            }
        }
        boolean hasDatabase = false;
        try {
            for (String suffix : ALL_FILES) {
                Path from = Sqlite.sidecar(database, suffix);
                Path tmp = tree.newFile(archive, ".tmp-");
                UserSide.Result r = UserSide.run(account, UserSide.READ, List.of(from.toString()), null, tmp, userStepTimeout);
                if (r.ok()) {
                    BackupTree.sync(tmp);
                    Files.move(tmp, archive.resolve(from.getFileName()), StandardCopyOption.ATOMIC_MOVE);
                    hasDatabase |= suffix.isEmpty();
                    continue;
                }
                Files.delete(tmp);
                boolean absent = r.exit() == UserSide.MISSING || (!suffix.isEmpty() && r.refused());
                if (!absent) throw userSideFailure("archive", user, from, r);
            }
        } catch (ActuatorException | IOException e) {
            FileTrees.delete(archive); // a refused or failed restore leaves no partial archive (the database is untouched yet)
            throw e;
        }
        BackupTree.sync(archive);
        return new Archived(archive, hasDatabase);
    }

    /**
     * Counted on the archived copy, root's own file, never on the live path. SQLite wants a -shm beside a WAL
     * database it reads, so the archive is copied (reflinked where the filesystem can) into a scratch directory of
     * ours and read there, leaving the archive byte for byte what the user had. Not hard links: the tree's
     * take-back removes files with more than one link, as links a user made in the old layout.
     * -1 when it cannot be read: a corrupt database must still be restorable.
     */
    private long projectionRowsLost(Path archive, String dbName, Path backup, Path userDir) throws IOException {
        Path scratch = tree.newDir(userDir, ".loss-" + tree.token());
        try {
            for (String suffix : List.of("", "-wal", "-journal")) {
                Path f = archive.resolve(dbName + suffix);
                if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) SeedCopy.copy(f, scratch.resolve(dbName + suffix));
            }
            return ProjectionLoss.count(scratch.resolve(dbName), backup);
        } catch (SQLException e) {
            return -1;
        } finally {
            FileTrees.delete(scratch);
        }
    }

    @Override
    public List<Path> prune(String user, int keep, Set<Path> protect) throws ActuatorException {
        if (keep < 0) throw new IllegalArgumentException("keep must not be negative: " + keep);
        requireUser(user);
        synchronized (lock(user)) {
            return pruneLocked(user, keep, protect);
        }
    }

    private List<Path> pruneLocked(String user, int keep, Set<Path> protect) throws ActuatorException {
        Set<Path> kept = protect.stream().map(p -> p.toAbsolutePath().normalize()).collect(Collectors.toSet());
        List<BackupInfo> all = listLocked(user);
        List<Path> deleted = new ArrayList<>();
        try {
            for (BackupInfo b : all.subList(Math.min(keep, all.size()), all.size())) {
                if (kept.contains(b.path().toAbsolutePath().normalize())) continue;
                Files.deleteIfExists(b.path()); // in our tree: nothing there is a link we did not make
                Files.deleteIfExists(Checksums.sidecar(b.path()));
                checksums.forget(b.path());
                deleted.add(b.path());
            }
        } catch (IOException e) {
            throw ActuatorException.transientFault("cannot prune " + user + "'s backups (deleted " + deleted + "): " + e, e);
        }
        return deleted;
    }

    /**
     * Different users share nothing but the tree's root (created idempotently) and the checksum memo (concurrent), so
     * they may run side by side; one user's operations stay one at a time.
     */
    private Object lock(String user) { return userLocks.computeIfAbsent(user, k -> new Object()); }

    @Override
    public List<Outcome<BackupInfo>> backupAll(List<BackupRequest> requests, int parallelism) {
        return Batch.run(requests, BackupRequest::user, parallelism, r -> backup(r.user(), r.database(), r.onVersion()));
    }

    @Override
    public List<Outcome<RestoreReport>> restoreAll(List<RestoreRequest> requests, int parallelism) {
        return Batch.run(requests, RestoreRequest::user, parallelism, r -> restore(r.user(), r.backup(), r.database()));
    }

    /** The hash of a copy only root can write, so what was hashed is what is renamed into place. */
    private static String join(CompletableFuture<String> sha) throws IOException {
        try {
            return sha.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UncheckedIOException io) throw io.getCause();
            throw new IOException("cannot hash the copy: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while hashing the copy", e);
        }
    }

    private static Account account(String user) throws ActuatorException {
        try {
            return Account.unprivileged(user);
        } catch (IOException e) {
            throw ActuatorException.refusedUserFiles("cannot act as " + user + ": " + e.getMessage());
        }
    }

    private static Path absolute(Path database) throws ActuatorException {
        // The user-side scripts get it as an argument: relative, it would be resolved against their working directory.
        if (!database.isAbsolute()) throw ActuatorException.verdict("the database path must be absolute: " + database);
        return database.normalize();
    }

    /**
     * What the user's process reported. A refusal, or any failure we cannot put down to an outage, is a verdict about
     * this user's files (they are quarantined; the others go on). Transient: our own output file could not be
     * written (the backup disk is full), or SQLite was busy, full or failing I/O.
     */
    private ActuatorException userSideFailure(String what, String user, Path path, UserSide.Result r) {
        String message = "cannot " + what + " " + user + "'s database: " + path + ": " + (r.stderr().isBlank() ? "exit " + r.exit() : r.stderr());
        if (r.outputFailed()) return ActuatorException.transientFault(message + " (writing into " + tree.root() + ": the backup filesystem is full or failing)", null);
        if (r.exit() == UserSide.SQLITE && TRANSIENT_SQLITE.matcher(r.stderr()).find()) return ActuatorException.transientFault(message, null);
        return ActuatorException.refusedUserFiles(message + " (as " + user + ")");
    }

    private static final Pattern TRANSIENT_SQLITE = Pattern.compile("database is locked|database table is locked|disk I/O error|database or disk is full");

    private BackupName freeName(Path dir, Version v) {
        Instant at = clock.instant();
        BackupName name = new BackupName(at, v);
        while (Files.exists(dir.resolve(name.fileName()), LinkOption.NOFOLLOW_LINKS)) name = new BackupName(name.takenAt().plusMillis(1), v);
        return name;
    }

    private static void requireUser(String user) throws ActuatorException {
        if (!User.isValidName(user)) throw ActuatorException.verdict("'" + user + "' is not a valid user name");
    }

    private static void deleteQuietly(Path p) {
        if (p == null) return;
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a leftover dot-file temp is ignored by list() and harmless
        }
    }
}
