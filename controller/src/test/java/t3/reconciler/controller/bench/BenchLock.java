package t3.reconciler.controller.bench;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One bed-backed bench at a time on this machine, whichever worktree it runs from: the benches' OS users
 * ({@code t3rb-*}, {@code t3bd-*}, {@code t3bb-*}, {@code t3bn-*}) are fixed names (made once, never deleted, so they
 * do not pile up), and two beds of the same users would run servers of one uid side by side. Tests use other prefixes;
 * ports are free ones picked at bed start.
 */
final class BenchLock {
    static final Path FILE = Files.isDirectory(Path.of("/run/lock")) ? Path.of("/run/lock/t3-reconciler-bench.lock")
            : Path.of(System.getProperty("java.io.tmpdir"), "t3-reconciler-bench.lock");

    /** Holds the lock until this JVM exits; fails with who holds it when another bench does. */
    @SuppressWarnings("resource") // held for the life of the process on purpose
    static void hold(String what) throws IOException {
        FileChannel ch = FileChannel.open(FILE, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
        FileLock l = ch.tryLock();
        if (l == null) {
            String holder = Files.readString(FILE, StandardCharsets.UTF_8).strip();
            throw new IllegalStateException("another bed-backed ./bench runs on this machine (" + holder + ", lock " + FILE
                    + "): its beds use the same OS users; wait for it to end");
        }
        ch.truncate(0);
        ch.write(java.nio.ByteBuffer.wrap(("pid " + ProcessHandle.current().pid() + ", ./bench " + what + ", " + Bench.root()).getBytes(StandardCharsets.UTF_8)));
        HOLD[0] = l;
    }

    private static final FileLock[] HOLD = new FileLock[1];

    private BenchLock() {}
}
