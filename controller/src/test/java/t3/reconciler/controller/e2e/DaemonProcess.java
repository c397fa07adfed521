package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code java -cp <this test's classpath> Main run -f SPEC} (DaemonIT's helper, for any bed and environment), with its JSON log (stdout and stderr) read into a list. */
public final class DaemonProcess implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();

    public static Predicate<JsonNode> ev(String event) { return n -> event.equals(n.path("event").asText()); }

    /** The daemon's metrics endpoint, as written in the bed's desired-state file. */
    static String scrape(Path spec) throws Exception {
        Matcher m = Pattern.compile("(?m)^\\s*metrics: \"([^\"]+)\"").matcher(Files.readString(spec));
        assertTrue(m.find(), "metrics address in the spec");
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://" + m.group(1) + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return r.body();
    }

    final Process process;
    private final List<String> lines = new ArrayList<>();
    private final List<JsonNode> nodes = new ArrayList<>();
    private final Thread reader;
    private boolean eof;

    private DaemonProcess(Process process) {
        this.process = process;
        this.reader = new Thread(this::read, "daemon-log-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    public static DaemonProcess start(Path spec, Map<String, String> env) throws IOException { return start(spec, env, List.of()); }

    /** @param wrapper a command the daemon is started under ({@code nohup}), which execs it: the pid stays the daemon's */
    public static DaemonProcess start(Path spec, Map<String, String> env, List<String> wrapper) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(wrapper);
        command.addAll(List.of(java, "-cp", System.getProperty("java.class.path"), "t3.reconciler.controller.cli.Main", "run", "-f", spec.toString()));
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("T3R_LOG", "json");
        pb.environment().putAll(env);
        return new DaemonProcess(pb.start());
    }

    public long pid() { return process.pid(); }

    public void signal(String sig) throws Exception {
        Process k = new ProcessBuilder("kill", "-" + sig, String.valueOf(pid())).inheritIO().start();
        assertTrue(k.waitFor(10, TimeUnit.SECONDS) && k.exitValue() == 0, "kill -" + sig + " " + pid());
    }

    private void read() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String l; (l = r.readLine()) != null; ) {
                JsonNode n;
                try {
                    n = l.startsWith("{") ? JSON.readTree(l) : JSON.createObjectNode();
                } catch (IOException e) {
                    n = JSON.createObjectNode();
                }
                synchronized (this) {
                    lines.add(l);
                    nodes.add(n);
                    notifyAll();
                }
            }
        } catch (IOException ignored) {
            // the stream closes when the process goes
        } finally {
            synchronized (this) {
                eof = true;
                notifyAll();
            }
        }
    }

    public synchronized int mark() { return lines.size(); }

    public synchronized List<JsonNode> since(int from) { return List.copyOf(nodes.subList(from, nodes.size())); }

    synchronized String output() { return String.join("\n", lines); }

    /** After the process exited: until its output is read to the end. */
    synchronized void drained() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!eof && System.nanoTime() < deadline) wait(1000);
    }

    public JsonNode await(int from, Predicate<JsonNode> p, Duration timeout, String what) throws InterruptedException {
        int i = awaitIndex(from, p, timeout, what);
        synchronized (this) {
            return nodes.get(i);
        }
    }

    /** The index of the first log line at or after {@code from} that matches; fails with the log tail on timeout or exit. */
    public synchronized int awaitIndex(int from, Predicate<JsonNode> p, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int i = from;
        while (true) {
            for (; i < nodes.size(); i++) if (p.test(nodes.get(i))) return i;
            if (eof) fail("the daemon exited (" + exit() + ") while waiting for: " + what + "\n" + tailLocked());
            long left = deadline - System.nanoTime();
            if (left <= 0) fail("timed out after " + timeout.toSeconds() + " s waiting for: " + what + "\n" + tailLocked());
            wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
    }

    private String exit() { return process.isAlive() ? "still running" : "exit " + process.exitValue(); }

    public synchronized String tail() { return tailLocked(); }

    private String tailLocked() {
        return "--- daemon " + pid() + " log tail ---\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            process.destroy(); // SIGTERM
            if (!process.waitFor(60, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}

