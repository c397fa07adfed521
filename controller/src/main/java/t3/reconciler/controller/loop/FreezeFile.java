package t3.reconciler.controller.loop;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;
import t3.reconciler.model.FileTrust;

/**
 * The operator freeze file, written by the operator's commands and by the breaker alike, and read by every pass.
 * Written atomically (a reader never sees half a reason) and only where root alone may write ({@link FileTrust#rootsOwn}):
 * the temp file gets a random name and is created {@code O_EXCL|O_NOFOLLOW}, so nothing planted beforehand is written
 * through; file and directory are fsynced, so a self-freeze survives a power cut.
 */
public final class FreezeFile {
    /**
     * The freeze file's default before the packaged unit made /etc read-only to the service. An operator's file there
     * still freezes (read only: neither the breaker nor {@code unfreeze} writes or removes it), so an upgrade never
     * silently lifts a freeze someone set by hand.
     */
    public static final Path LEGACY = Path.of("/etc/t3-autoupdate.freeze");
    /** A reason is a line or a paragraph; more is not read (a freeze file is root's, but bounded all the same). */
    static final int MAX_BYTES = 64 * 1024;
    private static final SecureRandom RANDOM = new SecureRandom();

    private FreezeFile() {}

    public static void write(Path file, String reason) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Path real = FileTrust.rootsOwn(file);
        Path dir = real.getParent();
        byte[] bytes = (reason.endsWith("\n") ? reason : reason + "\n").getBytes(StandardCharsets.UTF_8);
        Path tmp = null;
        for (int i = 0; tmp == null; i++) {
            Path candidate = dir.resolve("." + real.getFileName() + "." + HexFormat.of().formatHex(randomBytes()) + ".tmp");
            try (FileChannel ch = FileChannel.open(candidate, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                tmp = candidate;
                ch.write(ByteBuffer.wrap(bytes));
                ch.force(true);
            } catch (FileAlreadyExistsException e) {
                if (i >= 8) throw e; // 128 random bits taken eight times over: not chance
            }
        }
        try {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            Files.move(tmp, real, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /**
     * Removes the freeze file; false when there was none. Only where {@link #write} would write: a removal through a
     * link another user could re-point would unlink a file of the same name wherever they chose.
     */
    public static boolean remove(Path file) throws IOException {
        Path real = FileTrust.rootsOwn(file);
        boolean removed = Files.deleteIfExists(real);
        if (removed) {
            try (FileChannel d = FileChannel.open(real.getParent(), StandardOpenOption.READ)) {
                d.force(true);
            }
        }
        return removed;
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return b;
    }

    /**
     * The configured freeze file, or else the {@code legacy} one (said so in the reason, which names the file to
     * remove): either freezes. Same trust rules for both.
     */
    public static Optional<String> readWithLegacy(Path file, Path legacy) {
        Optional<String> configured = read(file);
        if (configured.isPresent() || file.toAbsolutePath().normalize().equals(legacy)) return configured;
        return read(legacy).map(reason -> "legacy freeze file " + legacy + " (remove it by hand to lift): " + reason);
    }

    /**
     * The freeze file's content, or empty when there is none. One another user could have written, planted, linked
     * or could remove (through its directory) reads as frozen, saying why: failing closed is the only safe reading.
     */
    public static Optional<String> read(Path file) {
        Path real;
        try {
            real = FileTrust.rootsOwn(file);
        } catch (FileTrust.Untrusted e) {
            return Optional.of("refused: " + e.getMessage());
        } catch (IOException e) {
            return Optional.of("refused: " + file + ": cannot check who may write it: " + e.getMessage());
        }
        try (FileChannel ch = FileChannel.open(real, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
             InputStream in = Channels.newInputStream(ch)) {
            return Optional.of(new String(in.readNBytes(MAX_BYTES), StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            // Present but unreadable still means frozen: err on the side of not acting.
            return Optional.of("(unreadable: " + e.getMessage() + ")");
        }
    }
}
