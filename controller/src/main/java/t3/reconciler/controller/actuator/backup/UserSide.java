package t3.reconciler.controller.actuator.backup;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import t3.reconciler.controller.actuator.proc.Account;
import t3.reconciler.controller.actuator.proc.ProcessTree;

/**
 * The work done in a user's own directory, done as that user (setpriv through {@link Account#wrap}): the kernel, not
 * the controller, decides which paths they may read or write, so a link, a swapped directory or a FIFO they plant
 * can only ever turn their own privileges against them. Root only hands a descriptor in (stdin) or takes one out
 * (stdout), both files in its own {@link BackupTree}; it never opens a path the user could choose.
 *
 * <p>Each script takes its paths as positional arguments ({@code "$1"}), never interpolated into its text.
 */
final class UserSide {
    /** Exit codes the scripts use to say the user's files are refused (a verdict about that user, not the build). */
    static final int LINK = 65, MISSING = 66, NOT_REGULAR = 67, NO_TEMP = 68, MISMATCH = 69, SQLITE = 70, OUTPUT = 71;
    /** Not the script's: it ran past its bound and was killed (as coreutils' timeout(1) says it). */
    static final int TIMED_OUT = 124;

    private static final String SH = "/bin/sh";
    private static final Duration KILL_GRACE = Duration.ofSeconds(5);
    private static final int MAX_STDERR = 8 << 10;

    /** Checks shared by the scripts: the file itself (not what a link names) must be a regular file. */
    private static final String CHECK = """
            check() {
              if [ -L "$1" ]; then echo "is a symbolic link" >&2; exit 65; fi
              if [ ! -e "$1" ]; then echo "does not exist or cannot be reached by $(id -un)" >&2; exit 66; fi
              if [ ! -f "$1" ]; then echo "is not a regular file" >&2; exit 67; fi
            }
            """;

    /**
     * {@code VACUUM INTO} a private directory the user makes beside the database (their disk, their access only),
     * then the snapshot on stdout. sqlite3's own output goes to stderr so stdout carries the snapshot alone. The
     * directory is cut from the (absolute) path by the shell, not dirname: every process here costs a fork and exec.
     */
    static final String SNAPSHOT = "set -eu\numask 077\n" + CHECK + """
            db=$1
            check "$db"
            work=$(mktemp -d -- "${db%/*}/.t3-backup-XXXXXXXX") || exit 68
            trap 'rm -rf -- "$work"' EXIT
            cd -- "$work"
            sqlite3 -batch -bail -init /dev/null -readonly "$db" ".timeout 30000" "VACUUM INTO 'snapshot.sqlite'" >&2 || exit 70
            cat snapshot.sqlite || exit 71
            """;

    /** One file out to stdout, for the archive; exit 66 when it is simply not there. */
    static final String READ = "set -eu\n" + CHECK + """
            check "$1"
            cat -- "$1" || exit 71
            """;

    /**
     * Replaces the database by stdin: a new file beside it (mktemp, 0600), the old file's mode, the expected sha256,
     * fsync, stale -wal/-shm/-journal removed (else SQLite would replay them into the restored file), rename over,
     * fsync of the directory. A database that exists must be a regular file.
     */
    static final String REPLACE = "set -eu\numask 077\n" + CHECK + """
            db=$1 want=$2
            mode=600
            if [ -e "$db" ] || [ -L "$db" ]; then check "$db"; mode=$(stat -c %a -- "$db"); fi
            dir=$(dirname -- "$db")
            tmp=$(mktemp -- "$dir/.$(basename -- "$db").restore-XXXXXXXX") || exit 68
            trap 'rm -f -- "$tmp"' EXIT
            cat > "$tmp"
            chmod -- "$mode" "$tmp"
            got=$(sha256sum < "$tmp")
            got=${got%% *}
            if [ "$got" != "$want" ]; then echo "the copy has sha256 $got, not the backup's $want" >&2; exit 69; fi
            sync -- "$tmp"
            for s in -wal -shm -journal; do rm -f -- "$db$s"; done
            mv -f -T -- "$tmp" "$db"
            trap - EXIT
            sync -- "$dir"
            check "$db"
            """;

    record Result(int exit, String stderr) {
        boolean ok() { return exit == 0; }

        /** The user's files were refused, as opposed to the tool failing. */
        boolean refused() { return exit >= LINK && exit <= MISMATCH; }

        /**
         * Writing to stdout failed: root's file, on root's disk (full, failing). cat says "write error" only for
         * its output; a read error on the user's side says otherwise.
         */
        boolean outputFailed() { return exit == OUTPUT && stderr.contains("write error"); }
    }

    private UserSide() {}

    /**
     * Runs {@code script} as {@code account} with {@code args} as {@code $1...}; stdin from {@code in} (or
     * /dev/null), stdout into {@code out} (or discarded): both root's files. stderr goes to a temp file of root's
     * in the JVM's temp directory (random name, O_EXCL, 0600), not beside {@code out}: when the backup disk is full,
     * the message saying so must still have somewhere to go. The process tree is killed after {@code timeout} (a
     * FIFO swapped in at the last moment blocks its open for ever) and the result says {@link #TIMED_OUT}.
     */
    static Result run(Account account, String script, List<String> args, Path in, Path out, Duration timeout) throws IOException {
        List<String> argv = new ArrayList<>(List.of(SH, "-c", script, "sh"));
        argv.addAll(args);
        Path err = Files.createTempFile("t3-backup-", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(account.wrap(argv)).directory(new File("/"))
                    .redirectInput(in == null ? ProcessBuilder.Redirect.from(new File("/dev/null")) : ProcessBuilder.Redirect.from(in.toFile()))
                    .redirectOutput(out == null ? ProcessBuilder.Redirect.DISCARD : ProcessBuilder.Redirect.to(out.toFile()))
                    .redirectError(ProcessBuilder.Redirect.to(err.toFile()));
            pb.environment().clear();
            Process p = pb.start();
            try {
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    // Most likely the user's doing (a FIFO swapped in after the check): a verdict about them, so
                    // that retrying it cannot hold up everyone else.
                    ProcessTree.kill(p, KILL_GRACE);
                    return new Result(TIMED_OUT, "did not finish within " + timeout.toSeconds() + "s as " + account.name() + " (killed)");
                }
            } catch (InterruptedException e) {
                ProcessTree.kill(p, KILL_GRACE);
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while working as " + account.name(), e);
            }
            try (InputStream s = Files.newInputStream(err)) {
                return new Result(p.exitValue(), new String(s.readNBytes(MAX_STDERR), StandardCharsets.UTF_8).strip());
            }
        } finally {
            Files.deleteIfExists(err);
        }
    }
}
