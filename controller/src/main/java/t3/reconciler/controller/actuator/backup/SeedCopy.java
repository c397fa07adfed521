package t3.reconciler.controller.actuator.backup;

import java.io.File;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

/**
 * Copies a backup to seed a throwaway health-check server. {@code cp --reflink=auto} shares the blocks on
 * filesystems that can (btrfs, XFS), so a large seed costs next to nothing; anywhere else it is an ordinary
 * copy, and without a working {@code cp} a streamed {@link Files#copy}.
 */
public final class SeedCopy {
    /** Copies {@code from} to {@code to}, which must not exist; returns the bytes copied. */
    public static long copy(Path from, Path to) throws IOException { return copy(from, to, "cp"); }

    /** @param cp the cp command; tests name one that does not exist to take the fallback */
    static long copy(Path from, Path to, String cp) throws IOException {
        if (!Files.isRegularFile(from)) throw new IOException("no file to copy at " + from);
        if (Files.exists(to, LinkOption.NOFOLLOW_LINKS)) throw new FileAlreadyExistsException(to.toString());
        if (!cp(cp, from, to)) {
            Files.deleteIfExists(to); // whatever a failed cp left
            Files.copy(from, to);
        }
        long copied = Files.size(to), expected = Files.size(from);
        if (copied != expected) throw new IOException("copied " + copied + " of " + expected + " bytes from " + from + " to " + to);
        return copied;
    }

    /** An argument list, never a shell line: paths may hold anything. False when cp is missing or fails. */
    private static boolean cp(String cp, Path from, Path to) throws IOException {
        Process p;
        try {
            p = new ProcessBuilder(List.of(cp, "--reflink=auto", "--", from.toString(), to.toString()))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
        } catch (IOException e) {
            return false;
        }
        try {
            return p.waitFor() == 0;
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while copying " + from + " to " + to);
        }
    }

    private SeedCopy() {}
}
