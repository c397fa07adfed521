package t3.reconciler.controller.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** {@code bin/t3-reconciler run -f SPEC} as a subprocess, each JSON log line stamped with the bench's clock when read. */
final class DaemonProc implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    record Line(long nanos, JsonNode json, String text) {}

    final Process process;
    final long startNanos;
    private final List<Line> lines = new ArrayList<>();
    private boolean eof;

    private DaemonProc(Process p, long t0) {
        this.process = p;
        this.startNanos = t0;
        Thread r = new Thread(this::read, "daemon-log");
        r.setDaemon(true);
        r.start();
    }

    /**
     * @param javaOpts null: the launcher's own defaults
     * @param cds      false: hide the launcher's AppCDS archive from it
     */
    static DaemonProc start(Path spec, String javaOpts, boolean cds, String... args) throws IOException {
        return start(spec, javaOpts, cds, java.util.Map.of(), args);
    }

    /** @param env added to the launcher's environment, e.g. {@code T3R_JAR} to run another build of the controller */
    static DaemonProc start(Path spec, String javaOpts, boolean cds, java.util.Map<String, String> env, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Bench.root().resolve("bin/t3-reconciler").toString()));
        cmd.addAll(args.length == 0 ? List.of("run", "-f", spec.toString()) : List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("T3R_LOG", "json");
        if (javaOpts != null) pb.environment().put("T3R_JAVA_OPTS", javaOpts);
        else pb.environment().remove("T3R_JAVA_OPTS");
        if (!cds) pb.environment().put("T3R_CDS_ARCHIVE", "/nonexistent/t3-reconciler.jsa");
        else pb.environment().remove("T3R_CDS_ARCHIVE");
        pb.environment().putAll(env);
        long t0 = System.nanoTime();
        return new DaemonProc(pb.start(), t0);
    }

    private void read() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String l; (l = r.readLine()) != null; ) {
                long now = System.nanoTime();
                JsonNode n;
                try {
                    n = l.startsWith("{") ? JSON.readTree(l) : JSON.createObjectNode();
                } catch (IOException e) {
                    n = JSON.createObjectNode();
                }
                synchronized (this) {
                    lines.add(new Line(now, n, l));
                    notifyAll();
                }
            }
        } catch (IOException ignored) {
            // closes with the process
        } finally {
            synchronized (this) {
                eof = true;
                notifyAll();
            }
        }
    }

    static Predicate<JsonNode> ev(String event) { return n -> event.equals(n.path("event").asText()); }

    synchronized int mark() { return lines.size(); }

    synchronized int await(int from, Predicate<JsonNode> p, long timeoutSec, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSec);
        for (int i = from; ; ) {
            for (; i < lines.size(); i++) if (p.test(lines.get(i).json())) return i;
            if (eof) throw new IllegalStateException("the daemon exited while waiting for " + what + "\n" + tail());
            long left = deadline - System.nanoTime();
            if (left <= 0) throw new IllegalStateException("timed out waiting for " + what + "\n" + tail());
            wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
    }

    synchronized Line line(int i) { return lines.get(i); }

    synchronized List<Line> since(int from) { return List.copyOf(lines.subList(from, lines.size())); }

    synchronized String tail() {
        StringBuilder b = new StringBuilder("--- daemon log tail ---\n");
        for (Line l : lines.subList(Math.max(0, lines.size() - 30), lines.size())) b.append(l.text()).append('\n');
        return b.toString();
    }

    long rssKb() throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
            if (l.startsWith("VmRSS:")) return Long.parseLong(l.replaceAll("\\D", ""));
        }
        throw new IOException("no VmRSS for " + process.pid());
    }

    void signal(String sig) throws IOException, InterruptedException { Sh.ok("kill", "-" + sig, String.valueOf(process.pid())); }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        synchronized (this) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!eof && System.nanoTime() < deadline) wait(500);
        }
    }
}
