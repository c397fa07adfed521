package t3.reconciler.controller.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Shim 4 for the baseline script (testbed/baseline-shims/README.md): the production dispatch on loopback, cut down
 * to what the script asks of it. {@code GET /} with {@code X-authentik-username: LOGIN} maps LOGIN to its OS user
 * (the users map), mints a pairing credential as that user ({@code t3 auth pairing create}, the installed build),
 * exchanges it at the user's own server and answers 200 with the server's {@code Set-Cookie}; 502 with the reason
 * when any of that fails (the script then retries in 2 s).
 */
final class Dispatch implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "dispatch");
        t.setDaemon(true);
        return t;
    });
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Path bed;
    private final Map<String, String> osUserOf;

    /** @param osUserOf login → OS user, as in the users map the script reads */
    Dispatch(Path bed, Map<String, String> osUserOf) throws IOException {
        this.bed = bed;
        this.osUserOf = Map.copyOf(osUserOf);
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.setExecutor(pool);
        server.createContext("/", this::handle);
        server.start();
    }

    String address() { return "127.0.0.1:" + server.getAddress().getPort(); }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String login = ex.getRequestHeaders().getFirst("X-authentik-username");
            String user = login == null ? null : osUserOf.get(login.strip());
            if (!ex.getRequestMethod().equals("GET") || user == null) {
                reply(ex, 403, Optional.empty(), "unknown user " + login);
                return;
            }
            Optional<String> cookie;
            String why;
            try {
                cookie = pair(user);
                why = cookie.isPresent() ? "paired" : "no t3_session cookie from " + user + "'s server";
            } catch (IOException | InterruptedException e) {
                cookie = Optional.empty();
                why = user + ": " + e.getMessage();
            }
            reply(ex, cookie.isPresent() ? 200 : 502, cookie, why);
        }
    }

    /** Mint as the user, then the credential exchange with the same endpoint fallback as the script's health check. */
    private Optional<String> pair(String user) throws IOException, InterruptedException {
        String out = Sh.ok("setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups", "--",
                bed.resolve("bin/t3").toString(), "auth", "pairing", "create", "--base-dir", bed.resolve("home").resolve(user).resolve(".t3").toString(),
                "--ttl", "5m", "--json");
        JsonNode cred = DaemonProc.JSON.readTree(out.substring(out.indexOf('{'))).get("credential");
        if (cred == null) throw new IOException("mint printed no credential: " + out.strip());
        int port = ScriptBed.port(bed, user);
        for (String ep : List.of("/api/auth/browser-session", "/api/auth/bootstrap")) {
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + ep)).timeout(Duration.ofSeconds(5))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"credential\":\"" + cred.asText() + "\"}")).build(), HttpResponse.BodyHandlers.discarding());
            if (r.statusCode() == 404) continue;
            return r.headers().allValues("set-cookie").stream().filter(c -> c.startsWith("t3_session=")).findFirst();
        }
        return Optional.empty();
    }

    private static void reply(HttpExchange ex, int code, Optional<String> cookie, String why) throws IOException {
        cookie.ifPresent(c -> ex.getResponseHeaders().add("Set-Cookie", c));
        byte[] body = (why + "\n").getBytes();
        ex.sendResponseHeaders(code, body.length);
        ex.getResponseBody().write(body);
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }
}
