package t3.reconciler.controller.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs commands (argument lists, never shell lines) and the test bed script. */
final class Sh {
    record Result(int exit, String out) {}

    static Result run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String out = new String(p.getInputStream().readAllBytes());
        return new Result(p.waitFor(), out);
    }

    static String ok(String... cmd) throws IOException, InterruptedException {
        Result r = run(List.of(cmd));
        if (r.exit() != 0) throw new IOException(String.join(" ", cmd) + " failed (exit " + r.exit() + "):\n" + r.out());
        return r.out();
    }

    /** Wall time of one command in ms, or -1 when it had to be killed after {@code timeoutSec}; fails unless it exits 0. */
    static double timedOrKilled(long timeoutSec, String... cmd) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        if (!p.waitFor(timeoutSec, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            return -1;
        }
        if (p.exitValue() != 0) throw new IOException(String.join(" ", cmd) + " failed (exit " + p.exitValue() + ")");
        return (System.nanoTime() - t0) / 1e6;
    }

    /** Wall time of one command in ms; fails unless it exits 0. */
    static double timed(String... cmd) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        ok(cmd);
        return (System.nanoTime() - t0) / 1e6;
    }

    /** {@code testbed/bed.sh ARGS...}; stderr to DIR/bed.stderr.log; returns stdout. */
    static String bed(Path dir, String... args) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        List<String> cmd = new ArrayList<>();
        cmd.add(Bench.root().resolve("testbed/bed.sh").toString());
        cmd.addAll(List.of(args));
        Path err = dir.resolve("bed.stderr.log");
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(err.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new IOException("bed.sh " + List.of(args) + " failed; see " + err);
        return out;
    }
}
