package t3.reconciler.controller.bench;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The unavailability probe on real loopback HTTP servers: an outage is never reported shorter than it was. */
class ProbeTest {
    static HttpServer serve(int port) throws Exception {
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 8);
        s.createContext("/", ex -> {
            byte[] b = "ok".getBytes();
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        s.start();
        return s;
    }

    @ParameterizedTest
    @ValueSource(longs = {Probe.PERIOD_NANOS, Probe.FINE_PERIOD_NANOS})
    void anOutageIsAtLeastAsLongAsTheServerWasGone(long period) throws Exception {
        HttpServer steady = serve(0), flaky = serve(0);
        int port = flaky.getAddress().getPort();
        Probe p = new Probe(Map.of("steady", steady.getAddress().getPort(), "flaky", port), period);
        long down, up;
        try (p) {
            p.awaitAnswerAfter("flaky", System.nanoTime(), 10_000);
            flaky.stop(0);
            // After one whole probe past the stop, every answer the probe will ever record from before it is in.
            long seen = p.tries("flaky");
            while (p.tries("flaky") < seen + 1) LockSupport.parkNanos(1_000_000);
            down = System.nanoTime();
            while (p.tries("flaky") < seen + 4) LockSupport.parkNanos(1_000_000);
            up = System.nanoTime();
            flaky = serve(port);
            p.awaitAnswerAfter("flaky", up, 10_000);
        } finally {
            steady.stop(0);
            flaky.stop(0);
        }
        Map<String, Double> gaps = p.longestGaps();
        assertTrue(gaps.get("flaky") >= (up - down) / 1e6, gaps + " vs an outage of " + (up - down) / 1e6 + " ms");
        // And the longest gap is where the outage was: it holds the whole of it.
        java.time.Instant[] w = p.longestGapWindow("flaky");
        assertTrue(!w[0].isAfter(p.wall(down)) && !w[1].isBefore(p.wall(up)), java.util.Arrays.toString(w) + " vs " + p.wall(down) + ".." + p.wall(up));
    }

    @Test
    void onlyAnHttp200CountsAsAnAnswer() throws Exception {
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
        s.createContext("/", ex -> {
            ex.sendResponseHeaders(502, -1);
            ex.close();
        });
        s.start();
        try {
            assertFalse(Probe.answers(s.getAddress().getPort()));
        } finally {
            s.stop(0);
        }
        HttpServer ok = serve(0);
        try {
            assertTrue(Probe.answers(ok.getAddress().getPort()));
        } finally {
            ok.stop(0);
        }
    }
}
