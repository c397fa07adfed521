package t3.reconciler.controller.actuator.proc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A local account that root hands work to, so that the kernel, not the controller, decides what may be touched: a
 * managed user (their own files, as their own server would), or the unprivileged account that runs candidate code.
 * Looked up by name in the passwd database (NSS through {@code getent}), never derived from a file's owner: a
 * path a user controls must not choose whom root becomes.
 */
public record Account(String name, int uid, int gid, Path home) {
    static final Path SETPRIV = Path.of("/usr/bin/setpriv");
    /** Nothing of root's environment reaches the account's process: only these and what {@link #wrap} sets. */
    static final String PATH = "/usr/local/bin:/usr/bin:/bin";

    /** @throws IOException when no such account exists, naming it */
    public static Account lookup(String name) throws IOException {
        if (!name.matches("[a-z_][a-z0-9_-]{0,31}")) throw new IOException("'" + name + "' is not a valid account name");
        Exec.Result r = Exec.run(List.of("getent", "passwd", name), Duration.ofSeconds(10));
        if (!r.ok()) throw new IOException("no local account '" + name + "' (getent passwd " + name + " exited " + r.exitCode() + ")");
        String[] f = r.stdout().strip().split(":", -1);
        if (f.length < 7 || !f[0].equals(name)) throw new IOException("getent passwd " + name + " printed an unexpected line");
        return new Account(name, Integer.parseInt(f[2]), Integer.parseInt(f[3]), Path.of(f[5].isEmpty() ? "/" : f[5]));
    }

    /** The account, refused when it is root: candidate code and users' files are never handled with uid 0. */
    public static Account unprivileged(String name) throws IOException {
        Account a = lookup(name);
        if (a.uid == 0 || a.gid == 0) throw new IOException("account '" + name + "' has uid/gid 0; it must be an unprivileged account");
        return a;
    }

    public static int currentUid() throws IOException {
        return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }

    /**
     * {@code argv} as this account with no supplementary groups and a fresh environment ({@code HOME}, {@code USER},
     * {@code LOGNAME}, {@code PATH}, {@code LANG} and {@code extraEnv} as {@code NAME=value}). Unwrapped (but still
     * with the fresh environment) when we already are this account.
     *
     * @param home the HOME to give it, or empty for the account's own
     */
    public List<String> wrap(List<String> argv, Optional<Path> home, List<String> extraEnv) throws IOException {
        return wrap(argv, home, extraEnv, Optional.empty());
    }

    /**
     * As {@link #wrap(List, Optional, List)}, with {@code binFirst} ahead of the fixed PATH: candidate code runs on
     * the node that {@code install.npm} sits beside (see {@link #binDirOf}).
     */
    public List<String> wrap(List<String> argv, Optional<Path> home, List<String> extraEnv, Optional<Path> binFirst) throws IOException {
        List<String> out = new ArrayList<>();
        if (currentUid() != uid) {
            out.addAll(List.of(SETPRIV.toString(), "--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--"));
        }
        out.addAll(List.of("/usr/bin/env", "-i", "HOME=" + home.orElse(this.home), "USER=" + name, "LOGNAME=" + name,
                "PATH=" + binFirst.map(d -> d + ":").orElse("") + PATH, "LANG=C.UTF-8"));
        for (String e : extraEnv) {
            if (!e.matches("[A-Za-z_][A-Za-z0-9_]*=.*")) throw new IllegalArgumentException("not NAME=value: " + e);
            out.add(e);
        }
        // env(1) takes its first word without '=' as the command: an absolute path never has one.
        if (argv.isEmpty() || !argv.get(0).startsWith("/") || argv.get(0).contains("=")) {
            throw new IllegalArgumentException("the command must be an absolute path: " + argv);
        }
        out.addAll(argv);
        return out;
    }

    public List<String> wrap(List<String> argv) throws IOException { return wrap(argv, Optional.empty(), List.of()); }

    /**
     * The directory of the operator's {@code install.npm}, put first on candidate code's PATH. t3's bin is
     * {@code #!/usr/bin/env node}, and a t3 may need a newer node than the machine's default (0.0.33 needs >= 22.16):
     * naming an npm that sits beside that node (e.g. {@code /opt/node24/bin/npm}) makes npm, its install scripts,
     * {@code t3 --version}, the health check's server and the minter all run on it. Nothing when npm is not an absolute
     * path, or sits in a directory already on the fixed PATH.
     */
    public static Optional<Path> binDirOf(Path npm) {
        if (!npm.isAbsolute() || npm.getParent() == null) return Optional.empty();
        Path dir = npm.getParent().normalize();
        if (dir.toString().contains(":")) return Optional.empty(); // would split PATH; such a dir is never a bin dir
        for (String p : PATH.split(":")) if (Path.of(p).equals(dir)) return Optional.empty();
        return Optional.of(dir);
    }
}
