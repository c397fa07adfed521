package t3.reconciler.controller.loop;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Supplier;

/** Serves {@code /metrics} on {@code host:port} (loopback unless the operator wrote another address), or nothing when {@code off}. */
public final class MetricsServer implements AutoCloseable {
    /** Exchanges at once: a scrape takes milliseconds, so a few threads serve any number of Prometheus servers. */
    static final int THREADS = 4;
    /** The longest one exchange may take, request and response: a scrape needs a fraction of it. */
    static final Duration EXCHANGE_DEADLINE = Duration.ofSeconds(10);

    static {
        // The JDK server's own limits on reading a request and writing a response; it reads them once, when its
        // ServerConfig class loads, so they are set before the first server is made. MetricsExecutor enforces the
        // same deadline whether or not another HttpServer in this JVM loaded that class first.
        System.getProperties().putIfAbsent("sun.net.httpserver.maxReqTime", Long.toString(EXCHANGE_DEADLINE.toSeconds()));
        System.getProperties().putIfAbsent("sun.net.httpserver.maxRspTime", Long.toString(EXCHANGE_DEADLINE.toSeconds()));
    }

    private final HttpServer server;
    private final MetricsExecutor executor;

    private MetricsServer(HttpServer server, MetricsExecutor executor) {
        this.server = server;
        this.executor = executor;
    }

    public static MetricsServer serve(String address, Supplier<String> scrape) throws IOException {
        if ("off".equals(address)) return new MetricsServer(null, null);
        int colon = address.lastIndexOf(':');
        HttpServer server = HttpServer.create(new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))), 16);
        // Not the default (the accepting thread itself): there, one client that sends half a request stops every scrape.
        MetricsExecutor executor = new MetricsExecutor(THREADS, EXCHANGE_DEADLINE);
        server.setExecutor(executor);
        server.createContext("/metrics", ex -> {
            byte[] body = scrape.get().getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream os = ex.getResponseBody()) {
                os.write(body);
            }
        });
        server.start();
        return new MetricsServer(server, executor);
    }

    public int port() { return server == null ? -1 : server.getAddress().getPort(); }

    @Override
    public void close() {
        if (server != null) server.stop(0);
        if (executor != null) executor.close();
    }
}
