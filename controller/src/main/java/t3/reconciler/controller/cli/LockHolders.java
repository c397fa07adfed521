package t3.reconciler.controller.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * Which processes hold a lock on a file, as the kernel says in {@code /proc/locks}: the daemon's instance lock is a
 * POSIX record lock ({@code FileChannel.tryLock}), listed with its holder's pid and the file's device and inode.
 * Unlike a pid file, this cannot name a process that merely reused a dead daemon's pid.
 */
final class LockHolders {
    static final Path PROC_LOCKS = Path.of("/proc/locks");

    private LockHolders() {}

    /** The pids holding a (granted, not waiting) lock on {@code file}; empty when none or the file is gone. */
    static Set<Long> of(Path file) throws IOException {
        long dev, ino;
        try {
            dev = (Long) Files.getAttribute(file, "unix:dev", LinkOption.NOFOLLOW_LINKS);
            ino = (Long) Files.getAttribute(file, "unix:ino", LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
            return Set.of();
        }
        // /proc/locks prints the kernel's MAJOR:MINOR in hex; st_dev is glibc's encoding of the same pair.
        String device = String.format("%02x:%02x:%d", ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL), (dev & 0xff) | ((dev >>> 12) & ~0xffL), ino);
        Set<Long> pids = new HashSet<>();
        for (String line : Files.readAllLines(PROC_LOCKS)) {
            // "1: POSIX  ADVISORY  WRITE 1234 fe:00:5308944 0 EOF"; a waiter's line has "->" after the number.
            String[] f = line.trim().split("\\s+");
            if (f.length < 6 || f[1].equals("->") || !f[5].equals(device)) continue;
            try {
                long pid = Long.parseLong(f[4]);
                if (pid > 0) pids.add(pid); // an open-file-description lock (OFDLCK) has no pid: -1
            } catch (NumberFormatException ignored) {
                // not a lock line
            }
        }
        return pids;
    }
}
