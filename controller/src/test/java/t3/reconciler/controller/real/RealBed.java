package t3.reconciler.controller.real;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import t3.reconciler.controller.testbed.RegistryBed;

/**
 * {@code T3_BED_REAL=1 testbed/bed.sh up}: the composed bed with every user on the real t3 0.0.33, its derived 0.0.34
 * in the registry, Node 24 under the units and install.npm. The shared tarball must be there (testbed/real-t3.sh):
 * when it is missing, {@link #fresh} fails saying where to put it; these tests never skip.
 */
final class RealBed implements AutoCloseable {
    final Path dir;
    final Path spec;

    private RealBed(Path dir, Path spec) {
        this.dir = dir;
        this.spec = spec;
    }

    static RealBed fresh(String... users) throws IOException, InterruptedException {
        Path dir = RegistryBed.repoRoot().resolve("controller/target/real-" + UUID.randomUUID().toString().substring(0, 8));
        List<String> args = new ArrayList<>(List.of("up", dir.toString()));
        args.addAll(List.of(users));
        String out;
        try {
            out = script(dir, args);
        } catch (IOException | RuntimeException e) {
            // A bed that came half up (a server that never answered) still has its manager, bus and registry running.
            try {
                script(dir, List.of("down", dir.toString()));
            } catch (IOException | RuntimeException down) {
                e.addSuppressed(down);
            }
            throw e;
        }
        String[] lines = out.strip().split("\n");
        return new RealBed(dir, Path.of(lines[lines.length - 1]));
    }

    void agent(String user, boolean on) throws IOException, InterruptedException {
        script(dir, List.of("agent", dir.toString(), user, on ? "on" : "off"));
    }

    Path link() { return dir.resolve("bin/t3"); }

    Path stateDb() { return dir.resolve("state/state.db"); }

    String bus() { return "unix:path=" + dir.resolve("systemd/bus"); }

    Path baseDir(String user) { return dir.resolve("home").resolve(user).resolve(".t3"); }

    Path database(String user) { return baseDir(user).resolve("userdata/state.sqlite"); }

    /** The bin dir holding Node 24's {@code node} and the {@code npm} that runs on it (the spec's install.npm's). */
    static Path nodeBin() throws IOException, InterruptedException {
        return Path.of(run(List.of(RegistryBed.repoRoot().resolve("testbed/real-t3.sh").toString(), "node"), null).strip());
    }

    @Override
    public void close() throws IOException, InterruptedException {
        script(dir, List.of("down", dir.toString()));
    }

    private static String script(Path dir, List<String> args) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        List<String> cmd = new ArrayList<>();
        cmd.add(RegistryBed.repoRoot().resolve("testbed/bed.sh").toString());
        cmd.addAll(args);
        return run(cmd, dir.resolve("bed.stderr.log"));
    }

    private static String run(List<String> cmd, Path errLog) throws IOException, InterruptedException {
        Path err = errLog != null ? errLog : Files.createTempFile("real-t3-", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(err.toFile()));
        pb.environment().put("T3_BED_REAL", "1");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            List<String> l = Files.readAllLines(err);
            throw new IOException(cmd + " failed (exit " + p.exitValue() + "); " + err + " ends:\n"
                    + String.join("\n", l.subList(Math.max(0, l.size() - 15), l.size())));
        }
        return out;
    }
}
