package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import t3.reconciler.controller.testbed.CapturedCli;
import t3.reconciler.controller.testbed.RegistryBed;

/**
 * Every key of the desired-state file applies live: a running daemon on the real bed gets each key edited and the
 * effect is observed in the pass the edit triggers. Before, everything was wired once at start: the edit was logged
 * "applied" and ignored until a restart. The keys only a restart applies are said to need one, never "applied".
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LiveEditIT {
    static final String A = "t3sl-a", B = "t3sl-b";
    static final String V1 = "0.0.25-nightly.20260602.1", V2 = "0.0.25-nightly.20260603.1", V3 = "0.0.25-nightly.20260604.1";
    static final Duration PASS = Duration.ofSeconds(240);
    static Bed bed;
    static DaemonProcess daemon;
    static RegistryBed mirror;
    static HttpServer webhook;
    static final BlockingQueue<String> alerts = new LinkedBlockingQueue<>();

    @BeforeAll
    static void up() throws Exception {
        bed = Bed.fresh(A, B);
        // B is on the bed but not yet in the spec: the users file adds B later.
        Files.writeString(usersMap(), "a@example.org=" + A + "\n");
        edit(s -> s.replaceFirst("(?m)^users: \\[.*]$", "users: [" + A + "]\nusersFile: " + usersMap()));
        webhook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        webhook.createContext("/", x -> {
            alerts.add(new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            x.sendResponseHeaders(200, -1);
            x.close();
        });
        webhook.start();
        daemon = DaemonProcess.start(bed.spec, Map.of());
        int at = daemon.awaitIndex(0, ev("reconcile"), PASS, "the first pass");
        JsonNode done = daemon.await(at, ev("reconciled"), PASS, "the first pass ends");
        assertEquals("converged", done.path("outcome").asText(), daemon.tail());
    }

    @AfterAll
    static void down() throws Exception {
        try {
            if (daemon != null) daemon.close();
            if (webhook != null) webhook.stop(0);
            if (mirror != null) mirror.close();
        } finally {
            if (bed != null) bed.close();
        }
    }

    @Test
    @Order(1)
    void aNewPinAndBackupDirAreDecidedOnInThePassThatAppliesThem() throws Exception {
        bed.publish(V1, "good");
        Path backups2 = Files.createDirectories(bed.dir.resolve("backups2"));
        Files.setPosixFilePermissions(backups2, PosixFilePermissions.fromString("rwx------"));
        int mark = daemon.mark();
        edit(s -> s.replace("track: nightly", "track: nightly\npin: " + V1).replaceFirst("backup: \\{dir: [^,]+,", "backup: {dir: " + backups2 + ","));
        List<JsonNode> pass = editPass(mark);
        assertTrue(pass.stream().anyMatch(step("start-rollout", V1)), "the edit's own pass starts the rollout of the pin:\n" + daemon.tail());
        JsonNode end = pass.get(pass.size() - 1);
        assertEquals("converged", end.path("outcome").asText(), end.toString());
        assertTrue(end.path("reason").asText().contains("pin " + V1), end.toString());
        assertTrue(files(backups2) > 0, "the pre-bump backup went to the new backup.dir " + backups2);
    }

    @Test
    @Order(2)
    void aRegistryMovedWhileTheOldOneIsDownResolvesFromTheNewOne() throws Exception {
        mirror = RegistryBed.start(bed.dir.resolve("mirror"));
        mirror.publish(V2, RegistryBed.Flavor.GOOD, RegistryBed.DEFAULT_SCHEMA, "nightly");
        Process down = new ProcessBuilder(Bed.repoRoot().resolve("testbed/registry.sh").toString(), "down", bed.dir.resolve("registry").toString())
                .redirectErrorStream(true).start();
        down.getInputStream().readAllBytes();
        assertTrue(down.waitFor(60, TimeUnit.SECONDS) && down.exitValue() == 0, "the old registry is down");
        int mark = daemon.mark();
        edit(s -> s.replace("pin: " + V1 + "\n", "").replaceFirst("(?m)^  registry: .*$", "  registry: " + mirror.url()));
        List<JsonNode> pass = editPass(mark);
        assertTrue(pass.stream().anyMatch(step("install", V2).and(n -> n.path("outcome").asText().equals("ok"))),
                "the edit's pass installs " + V2 + " from the new registry:\n" + daemon.tail());
        assertEquals("converged", pass.get(pass.size() - 1).path("outcome").asText(), daemon.tail());
    }

    @Test
    @Order(3)
    void theFreezeFileMovedAndTheWebhookSwapped() throws Exception {
        Path state2 = Files.createDirectories(bed.dir.resolve("state2"));
        Files.setPosixFilePermissions(state2, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path freeze = state2.resolve("freeze");
        int mark = daemon.mark();
        edit(s -> s.replaceFirst("(?m)^  freezeFile: .*$", "  freezeFile: " + freeze)
                + "alerts: {webhook: \"http://127.0.0.1:" + webhook.getAddress().getPort() + "/alerts\", heldBackAfter: 1s}\n");
        editPass(mark);

        mark = daemon.mark();
        Files.writeString(freeze, "frozen at the new place\n");
        int at = daemon.awaitIndex(mark, ev("reconcile").and(n -> n.path("trigger").asText().contains("freeze file changed")), PASS,
                "creating the moved freeze file triggers a pass");
        JsonNode decision = daemon.await(at, ev("decision"), PASS, "that pass decides");
        assertEquals("freeze", decision.path("gate").asText(), decision.toString());

        // The channel moves on while frozen: held back; the alert goes to the webhook named by the edit.
        mirror.publish(V3, RegistryBed.Flavor.GOOD, RegistryBed.DEFAULT_SCHEMA, "nightly");
        String got = null;
        for (int i = 0; i < 6 && got == null; i++) {
            mark = daemon.mark();
            daemon.signal("HUP");
            at = daemon.awaitIndex(mark, ev("reconcile").and(n -> n.path("trigger").asText().contains("SIGHUP")), PASS, "a SIGHUP pass");
            daemon.await(at, ev("reconciled"), PASS, "the SIGHUP pass ends");
            for (String body; (body = alerts.poll(5, TimeUnit.SECONDS)) != null; ) if (body.contains("T3HeldBack")) got = body;
        }
        assertTrue(got != null, "T3HeldBack reached the new webhook:\n" + daemon.tail());
    }

    @Test
    @Order(4)
    void aUsersFileEditAddsAUserAtTheNextPass() throws Exception {
        int mark = daemon.mark();
        Path tmp = usersMap().resolveSibling(".users.map.new");
        Files.writeString(tmp, "a@example.org=" + A + "\nb@example.org=" + B + "\n");
        Files.move(tmp, usersMap(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        int at = daemon.awaitIndex(mark, ev("reconcile").and(n -> n.path("trigger").asText().contains("users file edited")), PASS, "the users file edit triggers a pass");
        int end = daemon.awaitIndex(at, ev("reconciled"), PASS, "that pass ends");
        assertTrue(daemon.since(at).subList(0, end - at).stream().anyMatch(ev("step").and(n -> n.path("action").asText().equals("backup") && n.path("target").asText().equals(B))),
                B + " is in the spec in force: their first backup is taken in that pass\n" + daemon.tail());
    }

    @Test
    @Order(5)
    void aKeyOnlyARestartAppliesIsSaidToNeedOneAndKeepsItsValue() throws Exception {
        String before = Files.readString(bed.spec);
        Matcher m = Pattern.compile("(?m)^  metrics: \"([^\"]+)\"").matcher(before);
        assertTrue(m.find(), before);
        String old = m.group(1);
        int mark = daemon.mark();
        edit(s -> s.replace("metrics: \"" + old + "\"", "metrics: \"127.0.0.1:1\""));
        JsonNode said = daemon.await(mark, ev("desired-state").and(n -> !n.path("outcome").asText().equals("rejected")), PASS, "the edit is read");
        assertEquals("restart-needed", said.path("outcome").asText(), "never 'applied' for a key that is not: " + said);
        assertEquals("controller.metrics", said.path("restartNeeded").asText(), said.toString());
        daemon.signal("HUP");
        int at = daemon.awaitIndex(mark, ev("reconcile").and(n -> n.path("trigger").asText().contains("SIGHUP")), PASS, "a pass");
        daemon.await(at, ev("reconciled"), PASS, "that pass ends");
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://" + old + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), "the metrics stay where they were until the restart");
        CapturedCli status = CapturedCli.run("status", "--json", "--no-registry", "-f", bed.spec.toString());
        assertEquals(0, status.code(), status.err());
        JsonNode s = DaemonProcess.JSON.readTree(status.out());
        assertEquals("[\"controller.metrics\"]", s.path("restartNeeded").toString(), status.out());
        assertFalse(daemon.since(mark).stream().anyMatch(ev("desired-state").and(n -> n.path("outcome").asText().equals("applied"))), daemon.tail());
    }

    // -- helpers

    static Predicate<JsonNode> ev(String event) { return DaemonProcess.ev(event); }

    static Predicate<JsonNode> step(String action, String target) {
        return ev("step").and(n -> n.path("action").asText().equals(action) && n.path("target").asText().equals(target));
    }

    static Path usersMap() { return bed.dir.resolve("users.map"); }

    /** The log of the pass the edit triggered, from its 'reconcile' line to its 'reconciled' line. */
    static List<JsonNode> editPass(int mark) throws InterruptedException {
        int at = daemon.awaitIndex(mark, ev("reconcile").and(n -> n.path("trigger").asText().contains("desired-state edited")), PASS, "a pass triggered by the edit");
        int end = daemon.awaitIndex(at, ev("reconciled"), PASS, "the edit's pass ends");
        return daemon.since(at).subList(0, end - at + 1);
    }

    interface Edit {
        String apply(String s);
    }

    /** Like an editor: a temp file beside it, renamed over it; the edit must change something. */
    static void edit(Edit e) throws IOException {
        String before = Files.readString(bed.spec);
        String after = e.apply(before);
        assertFalse(after.equals(before), "the edit changes the file");
        Path tmp = bed.spec.resolveSibling("." + bed.spec.getFileName() + ".swp");
        Files.writeString(tmp, after);
        Files.move(tmp, bed.spec, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static long files(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).count();
        }
    }
}
