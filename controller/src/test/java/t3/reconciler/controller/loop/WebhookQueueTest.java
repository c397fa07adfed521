package t3.reconciler.controller.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import t3.reconciler.controller.testbed.TricklingServer;
import t3.reconciler.controller.log.Log;

/**
 * Webhook delivery against a real HTTP server on loopback: a server that sends headers and then trickles its body
 * forever, one that refuses, one that is gone. fire() never waits for any of them, a try ends at its deadline body
 * included, failures are retried and then logged, and a full queue drops its oldest alert, saying so.
 */
class WebhookQueueTest {
    static final WebhookQueue.Settings FAST = new WebhookQueue.Settings(Duration.ofSeconds(1), 3, Duration.ofMillis(10), 10, Duration.ofSeconds(60));

    final ByteArrayOutputStream logged = new ByteArrayOutputStream();
    final Log log = new Log(new PrintStream(logged, true, StandardCharsets.UTF_8), Log.Format.JSON, Clock.systemUTC());
    /** Requests the refusing server received. */
    final Semaphore requests = new Semaphore(0);
    final ExecutorService pool = Executors.newCachedThreadPool();
    HttpServer server;
    TricklingServer trickle;

    @AfterEach
    void stop() {
        if (trickle != null) trickle.close();
        if (server != null) server.stop(0);
        pool.shutdownNow();
    }

    /** Headers at once, then one byte every second until the test ends: a body that never ends. */
    URI trickling() throws IOException {
        trickle = TricklingServer.start("");
        return trickle.uri("/api/v2/alerts");
    }

    URI refusing() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(pool);
        server.createContext("/", ex -> {
            ex.getRequestBody().readAllBytes();
            requests.release();
            byte[] b = "nope".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(500, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        server.start();
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
    }

    String log() { return logged.toString(StandardCharsets.UTF_8); }

    @Test
    void aTricklingWebhookNeitherHoldsFireNorTheWorkerPastItsDeadline() throws Exception {
        LogAlerter alerter = new LogAlerter(log, Optional.of(trickling()), FAST);
        alerter.fire("T3BumpFailed", "critical", "0.0.2 failed", Map.of("version", "0.0.2"));
        assertTrue(log().contains("\"alert\":\"T3BumpFailed\""), "fire() logged and returned: " + log());

        assertTrue(trickle.arrived.tryAcquire(1, 60, TimeUnit.SECONDS), "the worker delivers");
        assertTrue(trickle.clientHungUp.await(60, TimeUnit.SECONDS), "the first try was ended under the trickling body, its connection closed");
        assertTrue(trickle.arrived.tryAcquire(2, 60, TimeUnit.SECONDS), "and tried again, twice");
        assertEquals(0, trickle.finished.get(), "while the server never finished a body");
        alerter.close();
        assertTrue(log().contains("gave up: webhook unreachable: POST ") && log().contains("no complete answer (headers and body) within PT1S"), log());
    }

    @Test
    void aRefusedDeliveryIsRetriedThenLoggedNeverThrown() throws Exception {
        LogAlerter alerter = new LogAlerter(log, Optional.of(refusing()), FAST);
        alerter.fire("T3RolledBack", "warning", "rolled back", Map.of());
        alerter.close();
        assertEquals(3, requests.availablePermits(), "three tries: " + log());
        assertTrue(log().contains("\"attempt\":\"1\"") && log().contains("\"attempt\":\"2\""), log());
        assertTrue(log().contains("\"attempts\":\"3\",\"reason\":\"gave up: webhook refused the alert: 500 nope\""), log());
    }

    @Test
    void anUnreachableWebhookIsLoggedNeverThrown() throws Exception {
        URI gone = refusing();
        server.stop(0);
        server = null;
        LogAlerter alerter = new LogAlerter(log, Optional.of(gone), FAST);
        alerter.fire("T3RolledBack", "warning", "rolled back", Map.of());
        alerter.close();
        assertTrue(log().contains("gave up: webhook unreachable"), log());
    }

    @Test
    void aFullQueueDropsTheOldestAlertAndSaysSo() throws Exception {
        LogAlerter alerter = new LogAlerter(log, Optional.of(trickling()),
                new WebhookQueue.Settings(Duration.ofSeconds(1), 1, Duration.ofMillis(10), 2, Duration.ofSeconds(60)));
        alerter.fire("first", "info", "held by the worker", Map.of());
        assertTrue(trickle.arrived.tryAcquire(1, 60, TimeUnit.SECONDS), "the worker is busy with the first");
        for (String name : new String[] {"second", "third", "fourth"}) alerter.fire(name, "info", name, Map.of());
        assertTrue(log().contains("\"alert\":\"second\",\"reason\":\"queue full (2): dropped the oldest alert undelivered\""), log());
        assertFalse(log().contains("\"alert\":\"third\",\"reason\":\"queue full"), log());
        alerter.close();
    }
}
