package t3.reconciler.controller.actuator.backup;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The {@code <backup>.sha256} sidecar, written only after the copy passed {@code integrity_check}: a backup is
 * verified when its sidecar exists and still matches its bytes. So a copy that was never checked (a crash before
 * the sidecar, a file dropped in by hand) or changed since (bit rot, truncation, a stray write) is not verified.
 * The format is {@code sha256sum}'s, so {@code sha256sum -c} works from a shell.
 *
 * <p>Hashing is memoized per file identity, size and mtime: the controller lists backups on every step. The memo
 * outlives the process in {@code <user dir>/.verified} (root's, in root's tree), so a new process, every
 * {@code run --once} and every daemon start, does not read every backup of every user again before its first plan
 * (14 backups of a 500 MB database are 7 GB per user). A remembered verdict counts only while the backup's file
 * identity, size, mtime and its sidecar's mtime are the ones it was hashed under. A restore does not rely on it: the
 * user's side checks the sha256 of the bytes it receives.
 */
final class Checksums {
    static final String SUFFIX = ".sha256";
    private static final int MAX_SIDECAR = 4096;

    static final String REMEMBERED = ".verified";
    /** Far more than a line per backup of a user; a bigger file is not ours to read. */
    private static final long MAX_REMEMBERED = 1 << 20;

    private record Stamp(String fileKey, long size, long mtimeNanos, long sidecarMtimeNanos) {}

    private final Map<Path, Map.Entry<Stamp, Boolean>> memo = new ConcurrentHashMap<>();
    /** User directories whose {@link #REMEMBERED} file this process has read, and those where it hashed since writing it. */
    private final Set<Path> recalled = ConcurrentHashMap.newKeySet(), hashed = ConcurrentHashMap.newKeySet();

    static Path sidecar(Path backup) { return backup.resolveSibling(backup.getFileName() + SUFFIX); }

    /**
     * Writes the sidecar of a checked backup: a new file under a random name ({@code O_EXCL}), fsynced, renamed over
     * (so it is never half-written), and the directory fsynced.
     */
    /** @param sha the backup's sha256, hashed by the caller from a copy only root could write */
    static void write(Path backup, String sha, BackupTree tree) throws IOException {
        Path side = sidecar(backup);
        Path tmp = tree.newFile(side.getParent(), "." + side.getFileName() + ".tmp-");
        try {
            Files.writeString(tmp, sha + "  " + backup.getFileName() + "\n", StandardCharsets.US_ASCII, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING, LinkOption.NOFOLLOW_LINKS);
            BackupTree.sync(tmp);
            Files.move(tmp, side, StandardCopyOption.ATOMIC_MOVE);
            tmp = null;
            BackupTree.sync(side.getParent());
        } finally {
            if (tmp != null) Files.deleteIfExists(tmp);
        }
    }

    /** The hash a verified backup's sidecar vouches for; empty when the backup is not verified. */
    Optional<String> expected(Path backup) throws IOException {
        return verified(backup) ? readSidecar(backup).map(line -> line.split(" ", 2)[0]) : Optional.empty();
    }

    boolean verified(Path backup) {
        try {
            recall(backup.getParent());
            Stamp stamp = stamp(backup);
            Map.Entry<Stamp, Boolean> known = memo.get(backup);
            if (known != null && known.getKey().equals(stamp)) return known.getValue();
            boolean ok = matches(backup);
            memo.put(backup, Map.entry(stamp, ok));
            hashed.add(backup.getParent());
            return ok;
        } catch (IOException e) {
            return false;
        }
    }

    void forget(Path backup) {
        memo.remove(backup);
        hashed.add(backup.getParent());
    }

    /** Reads, once per process, what earlier processes verified in {@code dir}. Unreadable or odd lines are hashed again. */
    private void recall(Path dir) {
        if (dir == null || !recalled.add(dir)) return;
        Path file = dir.resolve(REMEMBERED);
        try {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || Files.size(file) > MAX_REMEMBERED) return;
            for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
                String[] f = line.split("\t", 5);
                if (f.length != 5 || f[4].isEmpty() || f[4].contains("/")) continue;
                Stamp stamp = new Stamp(f[3], Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]));
                memo.putIfAbsent(dir.resolve(f[4]), Map.entry(stamp, true));
            }
        } catch (IOException | RuntimeException e) {
            // only a memo: what cannot be read is hashed again
        }
    }

    /**
     * After a listing of {@code dir} that hashed anything: the verified backups there, for the next process. A new
     * file of ours renamed over the old one; not fsynced (lost or torn after a crash, it only means hashing again).
     */
    void remember(Path dir, BackupTree tree) {
        if (!hashed.remove(dir)) return;
        StringBuilder lines = new StringBuilder();
        memo.forEach((path, known) -> {
            Stamp s = known.getKey();
            if (known.getValue() && dir.equals(path.getParent()) && s.fileKey().indexOf('\t') < 0 && s.fileKey().indexOf('\n') < 0) {
                lines.append(s.size()).append('\t').append(s.mtimeNanos()).append('\t').append(s.sidecarMtimeNanos()).append('\t')
                        .append(s.fileKey()).append('\t').append(path.getFileName()).append('\n');
            }
        });
        Path tmp = null;
        try {
            tmp = tree.newFile(dir, "." + REMEMBERED + ".tmp-");
            Files.writeString(tmp, lines, StandardCharsets.US_ASCII, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING, LinkOption.NOFOLLOW_LINKS);
            Files.move(tmp, dir.resolve(REMEMBERED), StandardCopyOption.ATOMIC_MOVE);
            tmp = null;
        } catch (IOException e) {
            // the next process hashes again
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // a stray temp file of ours, in root's tree
                }
            }
        }
    }

    private static boolean matches(Path backup) throws IOException {
        Optional<String> line = readSidecar(backup);
        return line.isPresent() && line.get().equals(sha256(backup) + "  " + backup.getFileName());
    }

    /**
     * Only a regular file is read: opening a FIFO would block for ever (and every pass with it). A sidecar is one
     * short line, so a huge file is not read whole.
     */
    private static Optional<String> readSidecar(Path backup) throws IOException {
        Path side = sidecar(backup);
        if (!Files.isRegularFile(side, LinkOption.NOFOLLOW_LINKS)) return Optional.empty();
        try (InputStream in = Files.newInputStream(side, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.of(new String(in.readNBytes(MAX_SIDECAR), StandardCharsets.US_ASCII).strip());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    private static Stamp stamp(Path backup) throws IOException {
        BasicFileAttributes a = Files.readAttributes(backup, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        long side;
        try {
            side = Files.getLastModifiedTime(sidecar(backup), LinkOption.NOFOLLOW_LINKS).to(TimeUnit.NANOSECONDS);
        } catch (NoSuchFileException e) {
            side = Long.MIN_VALUE;
        }
        return new Stamp(String.valueOf(Objects.requireNonNullElse(a.fileKey(), "")), a.size(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS), side);
    }

    static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
