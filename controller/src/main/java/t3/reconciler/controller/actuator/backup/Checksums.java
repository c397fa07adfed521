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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The {@code <backup>.sha256} sidecar, written only after the copy passed {@code integrity_check}: a backup is
 * verified when its sidecar exists and still matches its bytes. So a copy that was never checked (a crash before
 * the sidecar, a file dropped in by hand) or changed since (bit rot, truncation, a stray write) is not verified.
 * The format is {@code sha256sum}'s, so {@code sha256sum -c} works from a shell.
 *
 * <p>Hashing is memoized per file identity, size and mtime: the controller lists backups on every step.
 */
final class Checksums {
    static final String SUFFIX = ".sha256";
    private static final int MAX_SIDECAR = 4096;

    private record Stamp(Object fileKey, long size, long mtimeNanos, long sidecarMtimeNanos) {}

    private final Map<Path, Map.Entry<Stamp, Boolean>> memo = new ConcurrentHashMap<>();

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
            Stamp stamp = stamp(backup);
            Map.Entry<Stamp, Boolean> known = memo.get(backup);
            if (known != null && known.getKey().equals(stamp)) return known.getValue();
            boolean ok = matches(backup);
            memo.put(backup, Map.entry(stamp, ok));
            return ok;
        } catch (IOException e) {
            return false;
        }
    }

    void forget(Path backup) { memo.remove(backup); }

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
        return new Stamp(Objects.requireNonNullElse(a.fileKey(), ""), a.size(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS), side);
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
