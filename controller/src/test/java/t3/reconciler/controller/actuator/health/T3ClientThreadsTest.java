package t3.reconciler.controller.actuator.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The canary's and the health check's requests leave no thread waiting in native code behind them: a JVM that exits
 * with one waits for it (~0.3 s at the end of every {@code run --once} that had checked a server, when each request
 * made a java.net.http client and so a selector thread). Only a {@code Sec-} header (a dispatch's document request),
 * which HttpURLConnection drops, still takes that client; there the header must arrive.
 */
class T3ClientThreadsTest {
    HttpServer server;
    volatile String secFetchDest;

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", ex -> {
            try (ex) {
                secFetchDest = ex.getRequestHeaders().getFirst("Sec-Fetch-Dest");
                byte[] b = "{\"authenticated\":false,\"auth\":{\"sessionCookieName\":\"t3_session\"}}".getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().add("Set-Cookie", "t3_session=abc; Path=/");
                ex.sendResponseHeaders(200, b.length);
                ex.getResponseBody().write(b);
            }
        });
        server.start();
    }

    @AfterEach
    void stop() { server.stop(0); }

    URI base() { return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/"); }

    static Set<Thread> httpClientThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("HttpClient-")).collect(Collectors.toSet());
    }

    @Test
    void sessionAndPairingRequestsStartNoHttpClientThread() throws Exception {
        Set<Thread> before = httpClientThreads();
        T3Client client = new T3Client(Duration.ofSeconds(5));
        T3Client.Session s = client.session(base(), Map.of());
        assertEquals(new T3Client.Session(false, java.util.Optional.of("t3_session")), s);
        T3Client.Response posted = client.postJson(base().resolve("/api/auth/browser-session"), Map.of("credential", "x"));
        assertEquals(200, posted.status());
        assertEquals(List.of("t3_session=abc; Path=/"), posted.setCookies());
        Set<Thread> after = httpClientThreads();
        after.removeAll(before);
        assertEquals(Set.of(), after, "a request left an HttpClient thread behind");
    }

    @Test
    void aSecHeaderArrives() throws Exception {
        T3Client.Response r = new T3Client(Duration.ofSeconds(5)).get(base(), Map.of("Sec-Fetch-Dest", "document"));
        assertEquals(200, r.status());
        assertTrue("document".equals(secFetchDest), "Sec-Fetch-Dest arrived as " + secFetchDest);
    }
}
