package t3.reconciler.controller.actuator.backup;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
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

    private record Stamp(Object fileKey, long size, long mtimeNanos, long sidecarMtimeNanos) {}

    private final Map<Path, Map.Entry<Stamp, Boolean>> memo = new ConcurrentHashMap<>();

    static Path sidecar(Path backup) { return backup.resolveSibling(backup.getFileName() + SUFFIX); }

    /** Writes the sidecar of a checked backup, via a temp file and rename so it is never half-written. */
    static void write(Path backup, Owner owner) throws IOException {
        Path side = sidecar(backup), tmp = side.resolveSibling("." + side.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        owner.newFile(tmp);
        Files.writeString(tmp, sha256(backup) + "  " + backup.getFileName() + "\n", StandardCharsets.US_ASCII);
        Owner.sync(tmp);
        Files.move(tmp, side, StandardCopyOption.ATOMIC_MOVE);
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
        String line;
        try {
            line = Files.readString(sidecar(backup), StandardCharsets.US_ASCII).strip();
        } catch (NoSuchFileException e) {
            return false;
        }
        return line.equals(sha256(backup) + "  " + backup.getFileName());
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
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
