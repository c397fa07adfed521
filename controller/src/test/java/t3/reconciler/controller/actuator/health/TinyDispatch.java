package t3.reconciler.controller.actuator.health;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import t3.reconciler.controller.actuator.proc.Account;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * A minimal dispatch like the one that fronts t3 servers behind authentik: a document request carrying
 * {@code X-authentik-username} for a known login gets a freshly paired session cookie from that user's server.
 * Real HTTP, real minting, real exchange; only the routing table is fixed.
 */
final class TinyDispatch implements AutoCloseable {
    record Route(URI server, Path binary, Path baseDir, Account owner) {}

    private final HttpServer server;
    private final Map<String, Route> routes;
    private final T3Client http = new T3Client(Duration.ofSeconds(5));

    TinyDispatch(Map<String, Route> routes) throws IOException {
        this.routes = Map.copyOf(routes);
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    URI url() { return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/"); }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            Route route = routes.get(Optional.ofNullable(ex.getRequestHeaders().getFirst(HttpPairing.USER_HEADER)).orElse(""));
            if (route == null) {
                reply(ex, 403, "unknown user");
                return;
            }
            String path = ex.getRequestURI().getPath();
            if (path.equals(T3Client.SESSION_PATH)) {
                T3Client.Response r = http.get(route.server().resolve(T3Client.SESSION_PATH), Map.of());
                reply(ex, r.status(), r.body());
            } else if (path.equals("/") && "document".equals(ex.getRequestHeaders().getFirst("Sec-Fetch-Dest"))) {
                String credential = Minter.mint(route.binary(), route.baseDir(), route.owner(), Optional.empty(), Duration.ofSeconds(30));
                T3Client.Response r = http.postJson(route.server().resolve("/api/auth/browser-session"), Map.of("credential", credential));
                r.setCookies().forEach(c -> ex.getResponseHeaders().add("Set-Cookie", c));
                reply(ex, 200, "<!doctype html><html></html>");
            } else {
                reply(ex, 404, "");
            }
        } catch (Minter.Failure e) {
            reply(ex, 502, e.getMessage());
        }
    }

    private static void reply(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
        if (b.length > 0) ex.getResponseBody().write(b);
    }

    @Override
    public void close() { server.stop(0); }
}
