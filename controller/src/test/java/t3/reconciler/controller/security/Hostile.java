package t3.reconciler.controller.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real unprivileged local user acting against the controller: commands run through {@code setpriv} with the
 * account's uid and gid and no supplementary groups, so the kernel decides what they may touch, exactly as for a
 * person logged in on the VM. Needs root (the tests that attack a root controller run as root).
 */
public final class Hostile {
    private static final long TIMEOUT_S = 120;

    private Hostile() {}

    /** Fails with a clear message unless the test runs as root: these tests prove defences of a root process. */
    public static void requireRoot() throws IOException {
        if (uid("root") != 0 || (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") != 0) {
            throw new IllegalStateException("this test attacks a root controller and must run as root (run the README's test command as root)");
        }
    }

    /** Creates a system account with no home and no shell if it does not exist yet; returns its uid. */
    public static int ensureUser(String name) throws IOException {
        if (!exists(name)) {
            sh(List.of("useradd", "--system", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", name));
        }
        return uid(name);
    }

    public static boolean exists(String name) throws IOException {
        return run(List.of("id", "-u", name)).exit() == 0;
    }

    public static int uid(String name) throws IOException { return Integer.parseInt(sh(List.of("id", "-u", name)).strip()); }

    public static int gid(String name) throws IOException { return Integer.parseInt(sh(List.of("id", "-g", name)).strip()); }

    /** {@code argv} as {@code user}: setpriv with the user's uid/gid and cleared supplementary groups. */
    public static List<String> as(String user, List<String> argv) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=" + uid(user), "--regid=" + gid(user), "--clear-groups", "--"));
        cmd.addAll(argv);
        return cmd;
    }

    /** Starts {@code argv} as {@code user} in the background (a racer, a watcher); the caller destroys it. */
    public static Process spawn(String user, List<String> argv, Path log) throws IOException {
        return new ProcessBuilder(as(user, argv)).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    }

    /** Runs {@code argv} as {@code user} to the end (bounded) and returns its exit code and output. */
    public static Result runAs(String user, String... argv) throws IOException { return run(as(user, Arrays.asList(argv))); }

    public record Result(int exit, String output) {
        public boolean ok() { return exit == 0; }
    }

    public static Result run(List<String> argv) throws IOException {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(argv + " did not finish within " + TIMEOUT_S + "s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        return new Result(p.exitValue(), out);
    }

    private static String sh(List<String> argv) throws IOException {
        Result r = run(argv);
        if (!r.ok()) throw new IOException(argv + " exited " + r.exit() + ": " + r.output());
        return r.output();
    }
}
