package t3.reconciler.controller.actuator.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import t3.reconciler.controller.testbed.TricklingServer;

/**
 * The health check and the canary talk to servers that are not to be trusted (a candidate build, a user's server).
 * One that answers the session endpoint with headers and then a body that never ends must fail the call at the
 * request timeout, not hold the step: JDK's request timeout stops at the headers.
 */
class T3ClientDeadlineTest {
    final ExecutorService pool = Executors.newCachedThreadPool();
    TricklingServer server;

    @AfterEach
    void stop() {
        if (server != null) server.close();
        pool.shutdownNow();
    }

    @Test
    void aSessionAnswerThatTricklesFailsAtTheRequestTimeout() throws Exception {
        server = TricklingServer.start("{\"authenticated\":");
        URI base = server.uri("");
        T3Client client = new T3Client(Duration.ofSeconds(1));

        // Bounded only so that the old behaviour (a call that never returns) fails instead of hanging the build.
        Future<IOException> call = pool.submit(() -> assertThrows(IOException.class, () -> client.session(base, Map.of())));
        IOException e = call.get(120, TimeUnit.SECONDS);
        assertTrue(e.getMessage().contains("no complete answer (headers and body) within PT1S"), e.getMessage());
        assertTrue(server.clientHungUp.await(60, TimeUnit.SECONDS), "the connection was closed under the body");
        assertEquals(0, server.finished.get(), "the server never ended its body");
    }
}
