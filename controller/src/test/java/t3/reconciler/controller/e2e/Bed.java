package t3.reconciler.controller.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import t3.reconciler.controller.testbed.RegistryBed;

/** The composed test bed ({@code testbed/bed.sh}): real systemd user manager, loopback registry, users with data. */
final class Bed implements AutoCloseable {
    final Path dir;
    final Path spec;

    private Bed(Path dir, Path spec) {
        this.dir = dir;
        this.spec = spec;
    }

    /** A bed of its own under {@code controller/target/e2e-<random>}: test classes run side by side, each on its own. */
    static Bed fresh(String... users) throws IOException, InterruptedException {
        return up(repoRoot().resolve("controller/target/e2e-" + UUID.randomUUID().toString().substring(0, 8)), users);
    }

    static Bed up(Path dir, String... users) throws IOException, InterruptedException {
        return up(dir, Map.of(), users);
    }

    /** With {@code env} for bed.sh (T3_BED_REGISTRY, T3_BED_WRITE_INTERVAL_MS: see its header). */
    static Bed up(Path dir, Map<String, String> env, String... users) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("up", dir.toString()));
        args.addAll(List.of(users));
        String out = script(dir, args, env);
        String[] lines = out.strip().split("\n");
        return new Bed(dir, Path.of(lines[lines.length - 1]));
    }

    void publish(String version, String flavor, String... tags) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("publish", dir.toString(), version, flavor));
        args.addAll(List.of(tags));
        script(dir, args);
    }

    void agent(String user, boolean on) throws IOException, InterruptedException {
        script(dir, List.of("agent", dir.toString(), user, on ? "on" : "off"));
    }

    void archiveThread(String user) throws IOException, InterruptedException {
        script(dir, List.of("archive-thread", dir.toString(), user));
    }

    Path link() { return dir.resolve("bin/t3"); }

    Path stateDb() { return dir.resolve("state/state.db"); }

    Path freezeFile() { return dir.resolve("state/freeze"); }

    String bus() { return "unix:path=" + dir.resolve("systemd/bus"); }

    /**
     * {@code systemctl --user --wait restart UNIT} on this bed's manager, outside the controller (as systemd's
     * Restart=, a reboot or an operator would): returns once the unit's process has ended again, event-driven.
     *
     * @return systemctl's exit code (non-zero: the process failed), or empty when it did not return in 60 s
     */
    java.util.OptionalInt waitRestart(String unit) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("systemctl", "--user", "--quiet", "--wait", "restart", unit).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("systemctl.log").toFile()));
        pb.environment().put("XDG_RUNTIME_DIR", dir.resolve("systemd/run").toString());
        pb.environment().put("DBUS_SESSION_BUS_ADDRESS", bus()); // --wait watches the unit over the bus, not the private socket
        Process p = pb.start();
        if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return java.util.OptionalInt.empty();
        }
        return java.util.OptionalInt.of(p.exitValue());
    }

    Path database(String user) { return dir.resolve("home").resolve(user).resolve(".t3/userdata/state.sqlite"); }

    @Override
    public void close() throws IOException, InterruptedException {
        script(dir, List.of("down", dir.toString()));
    }

    static Path repoRoot() { return RegistryBed.repoRoot(); }

    private static String script(Path dir, List<String> args) throws IOException, InterruptedException {
        return script(dir, args, Map.of());
    }

    private static String script(Path dir, List<String> args, Map<String, String> env) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        List<String> cmd = new ArrayList<>();
        cmd.add(repoRoot().resolve("testbed/bed.sh").toString());
        cmd.addAll(args);
        Path err = dir.resolve("bed.stderr.log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(err.toFile()));
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new IOException("bed.sh " + args + " failed (exit " + p.exitValue() + "); see " + err + ":\n" + tail(err));
        return out;
    }

    private static String tail(Path f) throws IOException {
        List<String> l = Files.readAllLines(f);
        return String.join("\n", l.subList(Math.max(0, l.size() - 20), l.size()));
    }
}
