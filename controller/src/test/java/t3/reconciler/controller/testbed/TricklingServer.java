package t3.reconciler.controller.testbed;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A peer that holds an exchange open: a real HTTP server on loopback that answers every request with 200 and its
 * headers at once, then a body that never ends (one byte a second) until {@link #release}. What a hung webhook, a
 * hostile health-check server or a slow proxy looks like to a client whose timeout covers only the headers.
 */
public final class TricklingServer implements AutoCloseable {
    /** One permit per request that arrived (its body read). */
    public final Semaphore arrived = new Semaphore(0);
    /** Requests whose trickled body the server finished (only after {@link #release}). */
    public final AtomicInteger finished = new AtomicInteger();
    /** Counted down when a client closed the connection under a body. */
    public final CountDownLatch clientHungUp = new CountDownLatch(1);
    public final AtomicReference<Instant> firstRequest = new AtomicReference<>();

    private final CountDownLatch released = new CountDownLatch(1);
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final HttpServer server;

    private TricklingServer(String bodyStart) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(pool);
        server.createContext("/", ex -> {
            ex.getRequestBody().readAllBytes();
            firstRequest.compareAndSet(null, Instant.now());
            arrived.release();
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, 0);
            OutputStream os = ex.getResponseBody();
            try {
                os.write(bodyStart.getBytes(StandardCharsets.UTF_8));
                do {
                    os.write(' ');
                    os.flush();
                } while (!released.await(1, TimeUnit.SECONDS));
                os.close();
                finished.incrementAndGet();
            } catch (IOException e) {
                clientHungUp.countDown();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        server.start();
    }

    /** @param bodyStart the first bytes of every body (say, half a JSON object), then spaces for ever */
    public static TricklingServer start(String bodyStart) throws IOException { return new TricklingServer(bodyStart); }

    public URI uri(String path) { return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path); }

    /** Whether the test has let the bodies end. */
    public boolean released() { return released.getCount() == 0; }

    public void release() { released.countDown(); }

    @Override
    public void close() {
        release();
        server.stop(0);
        pool.shutdownNow();
    }
}
