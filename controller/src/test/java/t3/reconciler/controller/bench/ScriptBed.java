package t3.reconciler.controller.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A test bed (testbed/bed.sh) set up for the production script {@code ../shared/baseline/t3-autoupdate.sh} instead of
 * the controller, with the shims of testbed/baseline-shims/README.md: the units run {@code DIR/bin/t3}, relinked to
 * the global npm prefix {@code DIR/npm-global} the script installs into; the users map {@code DIR/ttyd-user-map};
 * the dispatch ({@link Dispatch}); the script itself runs through {@code testbed/baseline-shims/run-script.sh}.
 */
final class ScriptBed implements AutoCloseable {
    /** One line of the script's output, stamped with the bench's clock when read. */
    record Line(long nanos, String text) {}

    /** One run of the script: wall time, exit status, its output lines. */
    record Run(String what, int users, long t0, long end, int exit, List<Line> lines) {
        double wallSec() { return (end - t0) / 1e9; }

        /** Seconds from the start to the first (or last) line containing {@code s}; NaN if none. */
        double at(String s, boolean last) {
            double r = Double.NaN;
            for (Line l : lines) {
                if (l.text().contains(s)) {
                    r = (l.nanos() - t0) / 1e9;
                    if (!last) return r;
                }
            }
            return r;
        }

        /** Seconds between consecutive lines containing {@code s}, the first measured from the line containing {@code from}. */
        List<Double> intervals(String from, String s) {
            List<Double> out = new ArrayList<>();
            double prev = at(from, true);
            for (Line l : lines) {
                if (!l.text().contains(s)) continue;
                double t = (l.nanos() - t0) / 1e9;
                out.add(t - prev);
                prev = t;
            }
            return out;
        }
    }

    final Path dir;
    final List<String> users;
    final String registry;
    private final Dispatch dispatch;

    private ScriptBed(Path dir, List<String> users, String registry, Dispatch dispatch) {
        this.dir = dir;
        this.users = users;
        this.registry = registry;
        this.dispatch = dispatch;
    }

    static ScriptBed up(Path dir, List<String> users) throws Exception {
        List<String> args = new ArrayList<>(List.of("up", dir.toString()));
        args.addAll(users);
        Sh.bed(dir, args.toArray(String[]::new));
        String registry = Sh.ok(Bench.root().resolve("testbed/registry.sh").toString(), "url", dir.resolve("registry").toString()).strip().lines()
                .reduce((a, b) -> b).orElseThrow();
        Path prefix = dir.resolve("npm-global");
        if (!Files.isRegularFile(prefix.resolve("lib/node_modules/t3/package.json"))) {
            ProcessBuilder pb = new ProcessBuilder("npm", "install", "-g", "--prefix", prefix.toString(), "--registry", registry, "--loglevel=error",
                    "t3@" + BumpBench.BASE).redirectErrorStream(true);
            pb.environment().put("npm_config_cache", dir.resolve("npm-cache").toString());
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) throw new IOException("npm install -g of the base version failed:\n" + out);
        }
        Path link = dir.resolve("bin/t3");
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, prefix.resolve("bin/t3"));
        Map<String, String> map = new LinkedHashMap<>();
        for (String u : users) map.put(login(u), u);
        Dispatch d = new Dispatch(dir, map);
        ScriptBed b = new ScriptBed(dir, users, registry, d);
        // The units started on the controller-style prefix bed.sh installed; from here they run the script's.
        for (String u : users) b.restart(u);
        return b;
    }

    static String login(String user) { return "ak-" + user; }

    /** The users map the script reads: the first {@code n} users. */
    void manage(int n) throws IOException {
        StringBuilder b = new StringBuilder("# authentik login = OS user (the /etc/ttyd-user-map format)\n");
        for (String u : users.subList(0, n)) b.append(login(u)).append('=').append(u).append('\n');
        Files.writeString(dir.resolve("ttyd-user-map"), b.toString());
    }

    Run run(String what, int users) throws Exception {
        Files.createDirectories(dir.resolve("scratch"));
        ProcessBuilder pb = new ProcessBuilder(Bench.root().resolve("testbed/baseline-shims/run-script.sh").toString(), dir.toString(), script().toString())
                .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("T3_BENCH_REGISTRY", registry);
        pb.environment().put("T3_DISPATCH", dispatch.address());
        pb.environment().put("T3_SMOKE_PORT", String.valueOf(freePort()));
        System.out.println(what + " (script) ...");
        List<Line> lines = new ArrayList<>();
        long t0 = System.nanoTime();
        Process p = pb.start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String l; (l = r.readLine()) != null; ) lines.add(new Line(System.nanoTime(), l));
        }
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException(what + ": the script did not finish");
        }
        long end = System.nanoTime();
        Files.write(dir.resolve("script-runs.log"), (List<String>) lines.stream().map(l -> what + " | " + l.text()).toList(),
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        return new Run(what, users, t0, end, p.exitValue(), lines);
    }

    static Path script() {
        String s = Bench.opts.getOrDefault("script", Bench.root().resolveSibling("shared/baseline/t3-autoupdate.sh").toString());
        Path p = Path.of(s);
        if (!Files.isRegularFile(p)) Bench.usage("the baseline script " + p + " does not exist (--script PATH)");
        return p;
    }

    void restart(String user) throws Exception { systemctl(dir, "restart", unit(user)); }

    static String unit(String user) { return "t3-serve@" + user + ".service"; }

    /** {@code systemctl --user ARGS} on a bed's manager (its private socket), as the script's shim does. */
    static void systemctl(Path bed, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("env", "XDG_RUNTIME_DIR=" + bed.resolve("systemd/run"), "systemctl", "--user"));
        cmd.addAll(List.of(args));
        Sh.ok(cmd.toArray(String[]::new));
    }

    /** The loopback port of a bed user's server (bed.sh keeps it in systemd/ports/USER.env). */
    static int port(Path bed, String user) throws IOException {
        for (String l : Files.readAllLines(bed.resolve("systemd/ports/" + user + ".env"))) {
            if (l.startsWith("PORT=")) return Integer.parseInt(l.substring(5).strip());
        }
        throw new IOException(bed + ": no PORT= for " + user);
    }

    static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws Exception {
        dispatch.close();
        Sh.bed(dir, "down", dir.toString());
    }
}
