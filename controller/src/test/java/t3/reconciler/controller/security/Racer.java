package t3.reconciler.controller.security;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import t3.reconciler.controller.actuator.proc.ProcessTree;

/**
 * {@code testbed/racer.c} running as the attacker. Started armed: the constructor returns once the racer printed
 * "ready" (its inotify watch is in place), so the work it races can start at once, with no sleep.
 */
final class Racer implements AutoCloseable {
    private final Process process;
    private final BufferedReader out;
    private final List<String> lines = new ArrayList<>();

    Racer(String user, String... args) throws IOException {
        List<String> argv = new ArrayList<>(List.of(AttackBed.racer().toString()));
        argv.addAll(List.of(args));
        process = new ProcessBuilder(Hostile.as(user, argv)).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String first = out.readLine();
        if (!"ready".equals(first)) throw new IOException("the racer did not arm: " + first);
    }

    /** Stops the racer (if still racing) and returns everything it printed after "ready". */
    List<String> finish() throws IOException {
        ProcessTree.kill(process, java.time.Duration.ofSeconds(5));
        for (String l; (l = out.readLine()) != null; ) lines.add(l);
        return lines;
    }

    long swaps() throws IOException { return count("swapped "); }

    /** How many of the racer's lines start with {@code prefix} (its moves: "swapped NAME", "fifo NAME"). */
    long count(String prefix) throws IOException { return finish().stream().filter(l -> l.startsWith(prefix)).count(); }

    @Override
    public void close() throws IOException { finish(); }
}
