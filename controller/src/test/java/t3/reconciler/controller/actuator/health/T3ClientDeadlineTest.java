package t3.reconciler.controller.actuator.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The health check and the canary talk to servers that are not to be trusted (a candidate build, a user's server).
 * One that answers the session endpoint with headers and then a body that never ends must fail the call at the
 * request timeout, not hold the step: JDK's request timeout stops at the headers.
 */
class T3ClientDeadlineTest {
    final CountDownLatch release = new CountDownLatch(1);
    final CountDownLatch hungUp = new CountDownLatch(1);
    final ExecutorService pool = Executors.newCachedThreadPool();
    HttpServer server;

    @AfterEach
    void stop() {
        release.countDown();
        if (server != null) server.stop(0);
        pool.shutdownNow();
    }

    @Test
    void aSessionAnswerThatTricklesFailsAtTheRequestTimeout() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(pool);
        server.createContext("/", ex -> {
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, 0);
            OutputStream os = ex.getResponseBody();
            try {
                os.write("{\"authenticated\":".getBytes());
                do {
                    os.write(' ');
                    os.flush();
                } while (!release.await(1, TimeUnit.SECONDS));
            } catch (IOException | InterruptedException e) {
                hungUp.countDown();
            }
        });
        server.start();
        URI base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
        T3Client client = new T3Client(Duration.ofSeconds(1));

        // Bounded only so that the old behaviour (a call that never returns) fails instead of hanging the build.
        Future<IOException> call = pool.submit(() -> assertThrows(IOException.class, () -> client.session(base, Map.of())));
        IOException e = call.get(120, TimeUnit.SECONDS);
        assertTrue(e.getMessage().contains("no complete answer (headers and body) within PT1S"), e.getMessage());
        assertTrue(hungUp.await(60, TimeUnit.SECONDS), "the connection was closed under the body");
        assertEquals(1, release.getCount(), "the server never ended its body");
    }
}
