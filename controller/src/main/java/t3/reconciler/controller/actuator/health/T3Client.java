package t3.reconciler.controller.actuator.health;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import t3.reconciler.controller.http.WholeExchange;

/**
 * The slice of t3's HTTP contract the gates use. No cookie jar: cookies are read and sent by hand, by name.
 *
 * <p>{@link HttpURLConnection}, not {@code java.net.http}: every {@code HttpClient} keeps a selector thread waiting in
 * native code, and a JVM that exits while a thread is in native code waits up to ~0.3 s for it, which every
 * {@code run --once} that had checked a server paid at its end. One connection per request, never reused.
 * HttpURLConnection silently drops {@code Sec-} headers (the Fetch spec's forbidden names), so the one request that
 * needs one, a dispatch's document request ({@code Sec-Fetch-Dest}), still goes through an {@code HttpClient}, made
 * on first need: only with {@code canary.dispatch} set does a run pay that wait.
 */
final class T3Client {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String SESSION_PATH = "/api/auth/session";

    /** The session JSON and pairing answers are small; a page is read only to see that it is one. */
    static final int MAX_BODY = 1 << 20;

    /** Closes the connection of an exchange whose deadline passed: a parked thread, nothing in native code. */
    private static final ScheduledExecutorService DEADLINES = deadlines();

    record Response(int status, List<String> setCookies, String body) {}

    /** What {@code GET /api/auth/session} says. */
    record Session(boolean authenticated, Optional<String> cookieName) {}

    private final Duration requestTimeout;
    private HttpClient http;

    T3Client(Duration requestTimeout) {
        this.requestTimeout = requestTimeout;
    }

    Response get(URI uri, Map<String, String> headers) throws IOException {
        return get(uri, headers, requestTimeout);
    }

    Response get(URI uri, Map<String, String> headers, Duration timeout) throws IOException {
        return send("GET", uri, headers, null, timeout);
    }

    Response postJson(URI uri, Object body) throws IOException {
        return send("POST", uri, Map.of("content-type", "application/json"), JSON.writeValueAsBytes(body), requestTimeout);
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
     * The timeout bounds the whole exchange, body included: the server is a candidate build or a user's server, and
     * one that sends headers and then trickles its body must not hold the health check or the canary. At the deadline
     * the connection is closed under whatever read is waiting; the body is capped, so a huge answer cannot fill the heap.
     */
    private Response send(String method, URI uri, Map<String, String> headers, byte[] body, Duration timeout) throws IOException {
        if (headers.keySet().stream().anyMatch(h -> h.regionMatches(true, 0, "sec-", 0, 4))) return sendFetch(method, uri, headers, body, timeout);
        HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection(Proxy.NO_PROXY);
        int ms = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        c.setConnectTimeout(ms);
        c.setReadTimeout(ms);
        c.setInstanceFollowRedirects(false);
        c.setUseCaches(false);
        c.setRequestMethod(method);
        headers.forEach(c::setRequestProperty);
        AtomicBoolean expired = new AtomicBoolean();
        ScheduledFuture<?> deadline = DEADLINES.schedule(() -> {
            expired.set(true);
            c.disconnect();
        }, ms, TimeUnit.MILLISECONDS);
        try {
            if (body != null) {
                c.setDoOutput(true);
                try (OutputStream o = c.getOutputStream()) {
                    o.write(body);
                }
            }
            int status = c.getResponseCode();
            List<String> cookies = new ArrayList<>();
            c.getHeaderFields().forEach((name, values) -> {
                if (name != null && name.equalsIgnoreCase("set-cookie")) cookies.addAll(values);
            });
            String text;
            try (InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream()) {
                text = in == null ? "" : capped(in);
            }
            if (expired.get()) throw new IOException("deadline passed");
            return new Response(status, cookies, text);
        } catch (IOException | RuntimeException e) {
            // HttpURLConnection is not safe against a disconnect from another thread: closed under a request being
            // written or a response being parsed, it can throw a NullPointerException instead of an IOException.
            if (expired.get()) throw new IOException(method + " " + uri + ": no complete answer (headers and body) within " + timeout, e);
            throw e;
        } finally {
            deadline.cancel(false);
            c.disconnect();
        }
    }

    /** The same exchange through java.net.http, which sends {@code Sec-} headers ({@link WholeExchange}: the same deadline and cap). */
    private synchronized Response sendFetch(String method, URI uri, Map<String, String> headers, byte[] body, Duration timeout) throws IOException {
        if (http == null) http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(requestTimeout).followRedirects(HttpClient.Redirect.NEVER).build();
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(timeout)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        headers.forEach(b::header);
        HttpResponse<String> r = WholeExchange.send(http, b.build(), timeout, MAX_BODY);
        return new Response(r.statusCode(), r.headers().allValues("set-cookie"), r.body());
    }

    /** The body as UTF-8, cut after {@link #MAX_BODY} bytes (enough to say what the server meant; the rest is not read). */
    private static String capped(InputStream in) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        for (int n; (n = in.read(buf, 0, Math.min(buf.length, MAX_BODY + 1 - bytes.size()))) > 0; ) {
            bytes.write(buf, 0, n);
            if (bytes.size() > MAX_BODY) return new String(bytes.toByteArray(), 0, MAX_BODY, StandardCharsets.UTF_8) + "...";
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static ScheduledExecutorService deadlines() {
        ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "t3r-http-deadline");
            t.setDaemon(true);
            return t;
        });
        e.setRemoveOnCancelPolicy(true);
        return e;
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
