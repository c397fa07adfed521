package t3.reconciler.controller.e2e;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A real Prometheus or Alertmanager binary (from Debian's packages, fetched by ./test) run by a test: started with
 * its arguments, its log copied to a file, ready when it logs the line that says it listens.
 */
final class ServerProcess implements AutoCloseable {
    private final Process process;
    private final Path log;
    private final List<String> lines = new ArrayList<>();
    private boolean eof;

    private ServerProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
        Thread t = new Thread(this::read, "server-log-" + process.pid());
        t.setDaemon(true);
        t.start();
    }

    static ServerProcess start(Path log, List<String> command) throws IOException {
        return new ServerProcess(new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start(), log);
    }

    private void read() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
             Writer w = Files.newBufferedWriter(log)) {
            for (String line; (line = r.readLine()) != null; ) {
                w.write(line + "\n");
                w.flush();
                synchronized (this) {
                    lines.add(line);
                    notifyAll();
                }
            }
        } catch (IOException e) {
            // the process went away; eof below wakes whoever waits
        }
        synchronized (this) {
            eof = true;
            notifyAll();
        }
    }

    /** Waits for a log line matching {@code ready}: the server listens once it has said so. */
    synchronized ServerProcess awaitLog(Pattern ready, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        int seen = 0;
        while (true) {
            for (; seen < lines.size(); seen++) if (ready.matcher(lines.get(seen)).find()) return this;
            if (eof) throw new AssertionError("exited (" + process.waitFor() + ") before logging " + ready + "; see " + log + ":\n" + String.join("\n", lines));
            long left = end - System.nanoTime();
            if (left <= 0) throw new AssertionError("did not log " + ready + " within " + timeout + "; see " + log);
            wait(Math.max(1, left / 1_000_000));
        }
    }

    /** A loopback port free right now (the binaries take their address on the command line). */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** The binary: the system property, the variable ./test exports, the PATH, or where ./test extracts it. */
    static String binary(String property, String env, String name) {
        List<String> candidates = new ArrayList<>();
        if (System.getProperty(property) != null) candidates.add(System.getProperty(property));
        if (System.getenv(env) != null) candidates.add(System.getenv(env));
        for (String p : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) if (!p.isEmpty()) candidates.add(Path.of(p, name).toString());
        candidates.add(Bed.repoRoot().resolve(".ci/cache/prometheus/usr/bin/" + name).toString());
        return candidates.stream().filter(c -> Files.isExecutable(Path.of(c))).findFirst()
                .orElseThrow(() -> new AssertionError(name + " not found (-D" + property + ", $" + env + ", PATH, .ci/cache): ./test fetches it"));
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
    }
}
