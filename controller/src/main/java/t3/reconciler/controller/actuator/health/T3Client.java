package t3.reconciler.controller.actuator.health;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import t3.reconciler.controller.http.WholeExchange;

/** The slice of t3's HTTP contract the gates use. No cookie jar: cookies are read and sent by hand, by name. */
final class T3Client {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String SESSION_PATH = "/api/auth/session";

    /** The session JSON and pairing answers are small; a page is read only to see that it is one. */
    static final int MAX_BODY = 1 << 20;

    record Response(int status, List<String> setCookies, String body) {}

    /** What {@code GET /api/auth/session} says. */
    record Session(boolean authenticated, Optional<String> cookieName) {}

    private final HttpClient http;
    private final Duration requestTimeout;

    T3Client(Duration requestTimeout) {
        this.requestTimeout = requestTimeout;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(requestTimeout)
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    Response get(URI uri, Map<String, String> headers) throws IOException {
        return get(uri, headers, requestTimeout);
    }

    Response get(URI uri, Map<String, String> headers, Duration timeout) throws IOException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(timeout).GET();
        headers.forEach(b::header);
        return send(b.build());
    }

    Response postJson(URI uri, Object body) throws IOException {
        HttpRequest req = HttpRequest.newBuilder(uri).timeout(requestTimeout).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build();
        return send(req);
    }

    /** Reads the session endpoint; throws when it is not a 200 with the documented JSON shape. */
    Session session(URI base, Map<String, String> headers) throws IOException {
        return session(base, headers, requestTimeout);
    }

    /** As {@link #session(URI, Map)}, this request bounded by {@code timeout} (a readiness probe's own). */
    Session session(URI base, Map<String, String> headers, Duration timeout) throws IOException {
        Response r = get(base.resolve(SESSION_PATH), headers, timeout);
        if (r.status() != 200) throw new IOException(SESSION_PATH + " answered " + r.status());
        JsonNode n;
        try {
            n = JSON.readTree(r.body());
        } catch (IOException e) {
            throw new IOException(SESSION_PATH + " answered something that is not JSON");
        }
        if (n == null || !n.path("authenticated").isBoolean()) throw new IOException(SESSION_PATH + " answered no 'authenticated' boolean");
        String name = n.path("auth").path("sessionCookieName").asText("");
        return new Session(n.get("authenticated").booleanValue(), name.isEmpty() ? Optional.empty() : Optional.of(name));
    }

    /**
     * The request's timeout bounds the whole exchange, body included: the server is a candidate build or a user's
     * server, and one that sends headers and then trickles its body must not hold the health check or the canary.
     */
    private Response send(HttpRequest req) throws IOException {
        HttpResponse<String> r = WholeExchange.send(http, req, req.timeout().orElse(requestTimeout), MAX_BODY);
        return new Response(r.statusCode(), r.headers().allValues("set-cookie"), r.body());
    }

    /** The value of cookie {@code name} among Set-Cookie headers. */
    static Optional<String> cookie(List<String> setCookies, String name) {
        for (String h : setCookies) {
            String first = h.split(";", 2)[0];
            int eq = first.indexOf('=');
            if (eq > 0 && first.substring(0, eq).trim().equals(name)) return Optional.of(first.substring(eq + 1).trim());
        }
        return Optional.empty();
    }

    /** Cookie names only, for messages: values are secrets. */
    static List<String> cookieNames(List<String> setCookies) {
        return setCookies.stream().map(h -> h.split(";", 2)[0].split("=", 2)[0].trim()).toList();
    }
}
