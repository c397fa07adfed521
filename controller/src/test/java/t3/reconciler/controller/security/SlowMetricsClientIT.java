package t3.reconciler.controller.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.e2e.DaemonProcess;

/**
 * A local user connects to the daemon's metrics port (loopback, open to every local account) and sends half a
 * request, then nothing; on a second connection they pipeline requests and never read the answers. Before: the JDK
 * server ran exchanges on its accepting thread, so the half request stopped every scrape. Now exchanges run on a
 * small pool with a deadline each: Prometheus's scrape is answered meanwhile, and the server closes the slow
 * connection in the end.
 */
class SlowMetricsClientIT {
    static final String ATTACKER = "t3sc-slowpoke";

    /** Connects, sends a request line and one header but never the blank line that ends them, then reads until the server hangs up. */
    static final String HALF_REQUEST = "exec 3<>/dev/tcp/127.0.0.1/$1; printf 'GET /metrics HTTP/1.1\\r\\nHost: x\\r\\n' >&3; echo sent; cat <&3 >/dev/null; echo closed";

    /** Pipelines requests and never reads: the server's writes fill the socket buffers and block. */
    static final String NEVER_READS = "exec 3<>/dev/tcp/127.0.0.1/$1; r='GET /metrics HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'; printf \"$r\" >&3; echo sent;"
            + " for i in $(seq 5000); do printf \"$r\"; done >&3 2>/dev/null; sleep 3600";

    @TempDir Path dir;
    final List<Process> attackers = new ArrayList<>();

    @BeforeAll
    static void attacker() throws Exception {
        Hostile.requireRoot();
        Hostile.ensureUser(ATTACKER);
    }

    @AfterEach
    void stopAttackers() throws Exception {
        for (Process p : attackers) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    Process attack(String script, int port, BufferedReader[] out) throws Exception {
        Process p = new ProcessBuilder(Hostile.as(ATTACKER, List.of("/bin/bash", "-c", script, "attacker", Integer.toString(port))))
                .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        attackers.add(p);
        out[0] = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("sent", out[0].readLine(), "the attacker is connected and has sent its bytes");
        return p;
    }

    @Test
    void aHalfRequestAndAClientThatNeverReadsDoNotStopAScrape() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        Path state = Files.createDirectory(dir.resolve("state"));
        Path spec = Files.writeString(dir.resolve("desired.yaml"), "users: [alice]\nschedule: {resync: 1h}\ncontroller:\n  stateDb: " + state.resolve("state.db")
                + "\n  freezeFile: " + state.resolve("freeze") + "\n  pidFile: " + state.resolve("pid") + "\n  metrics: \"127.0.0.1:" + port + "\"\n"
                + "  bus: \"unix:path=" + dir.resolve("no-bus") + "\"\n");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        try (DaemonProcess daemon = DaemonProcess.start(spec, Map.of())) {
            daemon.await(0, DaemonProcess.ev("started"), Duration.ofSeconds(60), "the daemon's start");
            BufferedReader[] half = new BufferedReader[1], deaf = new BufferedReader[1];
            attack(HALF_REQUEST, port, half);
            attack(NEVER_READS, port, deaf);

            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                    .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertTrue(r.body().contains("t3r_breaker_open"), "the metrics, while both slow connections are open: " + r.body());

            String line, last = null;
            while ((line = half[0].readLine()) != null) last = line;
            assertEquals("closed", last, "the server hung up on the half request (the attacker's read returned end of stream)");
            assertTrue(ProcessHandle.of(daemon.pid()).map(ProcessHandle::isAlive).orElse(false), "the daemon is up");
            assertEquals(200, HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                    .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.discarding()).statusCode(), "and still scraped");
        }
    }
}
