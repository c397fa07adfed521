package t3.reconciler.controller.cli;

import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A long step (backup of a large DB, npm install, health check) as the operator sees it: in a terminal one line
 * rewritten with {@code \r} every second with the elapsed time; piped or logged, plain lines (start and end), so
 * a log file never fills with carriage returns.
 */
final class Progress {
    private final PrintStream out;
    private final boolean tty;

    Progress(PrintStream out, boolean tty) {
        this.out = out;
        this.tty = tty;
    }

    /** A terminal when the JVM has a console (stdin and stdout are a terminal); piped, redirected or under a test, plain lines. */
    static Progress forStdout() { return new Progress(System.out, System.console() != null); }

    interface Step<T> {
        T run() throws Exception;
    }

    /** Runs {@code step} under the label {@code what}; the outcome line says how long it took. */
    <T> T step(String what, Step<T> step) throws Exception {
        Instant start = Instant.now();
        ScheduledExecutorService ticker = null;
        if (tty) {
            out.print("\r" + what + " ...");
            out.flush();
            ticker = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "t3r-progress");
                t.setDaemon(true);
                return t;
            });
            ticker.scheduleAtFixedRate(() -> {
                synchronized (out) {
                    out.print("\r" + what + " ... " + Duration.between(start, Instant.now()).toSeconds() + "s");
                    out.flush();
                }
            }, 1, 1, TimeUnit.SECONDS);
        } else {
            out.println(what + " ...");
        }
        boolean ok = false;
        try {
            T t = step.run();
            ok = true;
            return t;
        } finally {
            if (ticker != null) {
                ticker.shutdownNow();
                ticker.awaitTermination(2, TimeUnit.SECONDS);
            }
            String end = what + " ... " + (ok ? "done" : "failed") + " (" + elapsed(start) + ")";
            synchronized (out) {
                // \r plus trailing spaces: the rewritten line may have been longer than the final one
                out.println(tty ? "\r" + end + "        " : end);
            }
        }
    }

    private static String elapsed(Instant start) {
        Duration d = Duration.between(start, Instant.now());
        return d.toSeconds() > 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }
}
