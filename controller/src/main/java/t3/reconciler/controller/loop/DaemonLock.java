package t3.reconciler.controller.loop;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import t3.reconciler.model.DesiredState;

/**
 * The lock beside the state DB that makes the controller (daemon or a single pass) the only one acting, and the pid
 * file that is ours to write only while we hold it, and to remove on the way out: a stale pid file left by a killed
 * run is overwritten, never trusted.
 */
public final class DaemonLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;
    private Path pidFile;

    private DaemonLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** @throws IllegalStateException when another process holds it */
    public static DaemonLock acquire(DesiredState s) throws IOException {
        Path file = Daemon.lockFileOf(s);
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock l;
        try {
            l = ch.tryLock();
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        if (l == null) {
            ch.close();
            throw new IllegalStateException("another t3-reconciler holds " + file + "; refusing to run twice");
        }
        return new DaemonLock(ch, l);
    }

    public void writePid(Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, ProcessHandle.current().pid() + "\n");
        pidFile = file;
    }

    public void removePid() throws IOException {
        if (pidFile != null) Files.deleteIfExists(pidFile);
        pidFile = null;
    }

    @Override
    public void close() throws IOException {
        try {
            removePid();
        } finally {
            try {
                lock.release();
            } finally {
                channel.close();
            }
        }
    }
}
