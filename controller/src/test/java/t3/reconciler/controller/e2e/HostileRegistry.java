package t3.reconciler.controller.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Hand-written npm registries on loopback that verdaccio would never be: one that lies about versions (a packument
 * whose {@code nightly} tag leads to a version string carrying shell or path syntax), and one that accepts
 * connections and never answers. Both record what was asked of them, so a test can prove no tarball was fetched.
 */
final class HostileRegistry implements AutoCloseable {
    private final HttpServer http;
    private final ServerSocket silent;
    private final List<Socket> held = new CopyOnWriteArrayList<>();
    final List<String> requests = new CopyOnWriteArrayList<>();

    private HostileRegistry(HttpServer http, ServerSocket silent) {
        this.http = http;
        this.silent = silent;
    }

    /**
     * A packument for {@code t3} whose {@code nightly} and {@code latest} tags name {@code key} and whose
     * {@code versions[key].version} is {@code version}: npm drops keys that are not semver, so a lie that reaches
     * the controller hides in the version field of a valid key (or is the tag itself, which npm then fails to find).
     */
    static HostileRegistry lying(String key, String version) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        HostileRegistry r = new HostileRegistry(s, null);
        s.createContext("/", ex -> {
            r.requests.add(ex.getRequestMethod() + " " + ex.getRequestURI());
            byte[] body;
            int status = 200;
            if (ex.getRequestURI().getPath().equals("/t3")) {
                String tarball = "http://127.0.0.1:" + s.getAddress().getPort() + "/t3/-/t3-" + key + ".tgz";
                body = new ObjectMapper().writeValueAsBytes(Map.of("name", "t3",
                        "dist-tags", Map.of("nightly", key, "latest", key),
                        "versions", Map.of(key, Map.of("name", "t3", "version", version, "bin", Map.of("t3", "bin/t3.js"),
                                "dist", Map.of("tarball", tarball, "shasum", "0000000000000000000000000000000000000000")))));
            } else {
                status = 404;
                body = "{\"error\":\"not found\"}".getBytes(StandardCharsets.UTF_8);
            }
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(status, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        s.start();
        return r;
    }

    /** Accepts every connection, reads nothing, answers nothing, closes nothing until {@link #close}. */
    static HostileRegistry silent() throws IOException {
        ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        HostileRegistry r = new HostileRegistry(null, ss);
        Thread t = new Thread(() -> {
            while (!ss.isClosed()) {
                try {
                    Socket c = ss.accept();
                    r.held.add(c);
                    r.requests.add("connection from " + c.getRemoteSocketAddress());
                } catch (IOException e) {
                    return; // closed
                }
            }
        }, "silent-registry");
        t.setDaemon(true);
        t.start();
        return r;
    }

    URI url() {
        int port = http != null ? http.getAddress().getPort() : silent.getLocalPort();
        return URI.create("http://127.0.0.1:" + port + "/");
    }

    boolean anyTarballFetched() { return requests.stream().anyMatch(r -> r.contains(".tgz")); }

    @Override
    public void close() throws IOException {
        if (http != null) http.stop(0);
        if (silent != null) silent.close();
        for (Socket s : held) s.close();
    }
}
