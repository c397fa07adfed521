package t3.reconciler.controller.actuator.proc;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command from an argument list (never a shell) with a hard time bound. Output goes to temporary files rather
 * than pipes, so a grandchild that keeps a pipe open cannot block us, and a chatty one cannot fill a pipe buffer.
 */
public final class Exec {
    /** Output kept per stream; more is cut (npm's error reports can be long). */
    private static final int MAX_OUTPUT = 1 << 20;
    private static final Duration KILL_GRACE = Duration.ofSeconds(5);

    private Exec() {}

    public record Result(int exitCode, String stdout, String stderr) {
        public boolean ok() { return exitCode == 0; }

        /** The last lines of stderr (else stdout), for messages. */
        public String tail() { return Exec.tail(stderr.isBlank() ? stdout : stderr, 12); }
    }

    /** Thrown after the command ran past its bound and its process tree was killed. */
    public static final class TimedOut extends IOException {
        public TimedOut(String message) { super(message); }
    }

    public static Result run(List<String> argv, Duration timeout) throws IOException {
        return run(argv, timeout, Map.of(), null);
    }

    /** @param env variables added to (or replacing) the inherited environment */
    public static Result run(List<String> argv, Duration timeout, Map<String, String> env, Path cwd) throws IOException {
        Path out = Files.createTempFile("t3-exec-", ".out");
        Path err = Files.createTempFile("t3-exec-", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(argv).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            pb.environment().putAll(env);
            if (cwd != null) pb.directory(cwd.toFile());
            Process p = pb.start();
            boolean done;
            try {
                done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                ProcessTree.kill(p, KILL_GRACE);
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while running " + argv.get(0), e);
            }
            if (!done) {
                ProcessTree.kill(p, KILL_GRACE);
                throw new TimedOut(argv.get(0) + " did not finish within " + timeout.toSeconds() + "s (killed)");
            }
            return new Result(p.exitValue(), read(out), read(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static String read(Path f) throws IOException {
        try (var in = Files.newInputStream(f)) {
            return new String(in.readNBytes(MAX_OUTPUT), StandardCharsets.UTF_8);
        }
    }

    public static String tail(String s, int lines) {
        String[] all = s.strip().split("\n");
        return String.join("\n", List.of(all).subList(Math.max(0, all.length - lines), all.length));
    }
}
