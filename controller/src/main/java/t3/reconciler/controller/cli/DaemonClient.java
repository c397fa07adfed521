package t3.reconciler.controller.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.function.BooleanSupplier;
import t3.reconciler.controller.loop.Daemon;
import t3.reconciler.controller.store.LastReconcile;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.DesiredState;

/** The running daemon as the CLI sees it: its pid file proven by its instance lock, SIGHUP, and the reconciles it records in the state store. */
final class DaemonClient {
    private static final long POLL_MS = 250;
    private static final LastReconcile NONE = new LastReconcile(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), 0, "?");

    private DaemonClient() {}

    /** The daemon, or why there is none: {@code why} is for the operator, naming the pid file and the lock. */
    record Found(Optional<Long> pid, String why) {
        static Found none(String why) { return new Found(Optional.empty(), why); }
    }

    /**
     * The daemon's pid, proven: the pid file names a process and the kernel lists that very process as the holder of
     * the instance lock ({@link Daemon#lockFileOf}). A pid file left by a daemon that died, whose pid another process
     * (anyone's) now has, names no daemon: signalling it would hit that process.
     */
    static Found find(DesiredState s) {
        Path pidFile = s.controller().pidFile();
        Path lock = Daemon.lockFileOf(s);
        long pid;
        try {
            pid = readPid(pidFile);
        } catch (NoSuchFileException e) {
            return Found.none("pid file " + pidFile + " does not exist");
        } catch (IOException | NumberFormatException e) {
            return Found.none("pid file " + pidFile + " holds no pid: " + e.getMessage());
        }
        if (ProcessHandle.of(pid).filter(ProcessHandle::isAlive).isEmpty()) return Found.none("pid file " + pidFile + " names pid " + pid + ", which is not running");
        Set<Long> holders;
        try {
            holders = LockHolders.of(lock);
        } catch (IOException e) {
            return Found.none("cannot tell who holds " + lock + ": " + e.getMessage());
        }
        if (!holders.contains(pid)) {
            return Found.none("pid file " + pidFile + " names pid " + pid + ", which does not hold the lock " + lock
                    + (holders.isEmpty() ? "" : "; pid " + holders.stream().sorted().map(String::valueOf).collect(Collectors.joining(", ")) + " does"));
        }
        return new Found(Optional.of(pid), "pid " + pid + " holds " + lock);
    }

    /** The daemon's pid if one is proven to run (see {@link #find}). */
    static Optional<Long> running(DesiredState s) { return find(s).pid(); }

    /** A pid file is a few digits: read without following a link, and never more than a line. */
    private static long readPid(Path pidFile) throws IOException {
        if (!Files.isRegularFile(pidFile, LinkOption.NOFOLLOW_LINKS)) {
            if (!Files.exists(pidFile, LinkOption.NOFOLLOW_LINKS)) throw new NoSuchFileException(pidFile.toString());
            throw new IOException("not a regular file");
        }
        try (FileChannel ch = FileChannel.open(pidFile, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
             InputStream in = Channels.newInputStream(ch)) {
            String text = new String(in.readNBytes(32), StandardCharsets.US_ASCII).strip();
            long pid = Long.parseLong(text);
            if (pid <= 1) throw new NumberFormatException("'" + text + "' is not a daemon's pid");
            return pid;
        }
    }

    /** SIGHUP to {@code pid}, proven again just before the signal to be the holder of the instance lock. */
    static void hup(DesiredState s, long pid) throws IOException {
        Found now = find(s);
        if (!now.pid().equals(Optional.of(pid))) throw new CliException(Main.FAILED, "no daemon running (" + now.why() + "); nothing was signalled");
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(pid)).inheritIO().start();
        try {
            if (kill.waitFor() != 0) throw new CliException(Main.FAILED, "kill -HUP " + pid + " failed");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(Main.FAILED, "interrupted while signalling " + pid);
        }
    }

    /**
     * Waits until {@code done} holds or a pass that started at or after {@code sentAt} has ended, as the daemon records
     * them in the store ({@link StateStore#lastReconcile}). Returns the last recorded reconcile (empty fields when
     * none was); throws when the daemon dies or time runs out.
     */
    static LastReconcile await(StateStore store, long pid, Instant sentAt, BooleanSupplier done, Duration timeout) {
        Instant deadline = Instant.now().plus(timeout);
        while (true) {
            Optional<LastReconcile> last = store.lastReconcile();
            if (done.getAsBoolean()) return last.orElse(NONE);
            if (last.isPresent() && last.get().endedPassStartedAtOrAfter(sentAt)) return last.get();
            if (ProcessHandle.of(pid).filter(ProcessHandle::isAlive).isEmpty()) throw new CliException(Main.FAILED, "the daemon (pid " + pid + ") exited while we waited");
            if (Instant.now().isAfter(deadline)) throw new CliException(Main.FAILED, "gave up waiting after " + timeout + "; the daemon is still working: see 't3-reconciler status'");
            try {
                Thread.sleep(POLL_MS); // polling a real condition (the store), bounded by the deadline
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CliException(Main.FAILED, "interrupted");
            }
        }
    }
}
