package t3.reconciler.controller.actuator.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;

/**
 * etcd v3 through its JSON gateway (the grpc-gateway every etcd serves on its client port: {@code /v3/kv/range},
 * {@code /v3/kv/txn}, {@code /v3/lease/*}, {@code /v3/watch}), with the JDK's HttpClient and Jackson: no gRPC, Netty or
 * Guava in the controller (docs/fleet.md has the footprint measured against jetcd). Keys and values travel base64
 * encoded, 64-bit numbers as JSON strings, as the gateway does.
 *
 * <p>Requests go to one endpoint at a time; one that cannot be reached (refused, timed out) hands over to the next, so
 * a dead member costs one connect attempt, not an outage. Reads are linearizable (etcd's default): they need a quorum,
 * which is what makes "no quorum" visible as a failed read.
 */
public final class EtcdClient implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Base64.Encoder B64 = Base64.getEncoder();
    private static final Base64.Decoder B64D = Base64.getDecoder();

    private final List<URI> endpoints;
    private final HttpClient http;
    private final Duration requestTimeout;
    private final AtomicInteger current = new AtomicInteger();

    public EtcdClient(List<URI> endpoints, Optional<SSLContext> tls, Duration requestTimeout) {
        if (endpoints.isEmpty()) throw new IllegalArgumentException("no etcd endpoints");
        this.endpoints = List.copyOf(endpoints);
        this.requestTimeout = requestTimeout;
        // HTTP/1.1: etcd serves gRPC and the gateway on one port and tells them apart by protocol; an h2c upgrade
        // attempt would be taken for gRPC.
        HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(requestTimeout);
        tls.ifPresent(b::sslContext);
        this.http = b.build();
    }

    public List<URI> endpoints() { return endpoints; }

    /**
     * Start at the endpoint {@code host} hashes to instead of the first: hosts given the same list spread their
     * requests over the members instead of all loading the first (a fleet of 50 sent it 98-100 % of requests).
     */
    public EtcdClient spreadBy(String host) {
        current.set(Math.floorMod(host.hashCode(), endpoints.size()));
        return this;
    }

    public Range get(String key) throws EtcdException {
        return range(key, null);
    }

    public Range prefix(String prefix) throws EtcdException {
        return range(prefix, prefixEnd(prefix));
    }

    private Range range(String from, String to) throws EtcdException {
        ObjectNode body = JSON.createObjectNode().put("key", b64(from));
        if (to != null) body.put("range_end", b64(to));
        return toRange(post("/v3/kv/range", body, requestTimeout));
    }

    public record TxnResult(boolean succeeded, long revision, List<Range> reads) {}

    public TxnResult txn(Txn txn) throws EtcdException {
        ObjectNode body = JSON.createObjectNode();
        ArrayNode compares = body.putArray("compare");
        for (Txn.Compare c : txn.compares()) compares.add(compare(c));
        ArrayNode success = body.putArray("success");
        for (Txn.Op op : txn.success()) success.add(op(op));
        ArrayNode failure = body.putArray("failure");
        for (Txn.Op op : txn.failure()) failure.add(op(op));
        JsonNode r = post("/v3/kv/txn", body, requestTimeout);
        List<Range> reads = new ArrayList<>();
        long revision = num(r.path("header"), "revision");
        for (JsonNode resp : r.path("responses")) {
            JsonNode range = field(resp, "response_range", "responseRange");
            if (!range.isMissingNode()) reads.add(toRange(range, revision));
        }
        return new TxnResult(r.path("succeeded").asBoolean(false), revision, reads);
    }

    /** A lease of {@code ttl} (whole seconds); keys put under it vanish when it is revoked or not renewed in time. */
    public long grant(Duration ttl) throws EtcdException {
        JsonNode r = post("/v3/lease/grant", JSON.createObjectNode().put("TTL", Long.toString(ttl.toSeconds())), requestTimeout);
        long id = num(r, "ID");
        if (id == 0) throw new EtcdException("etcd granted no lease: " + r.path("error").asText(r.toString()));
        return id;
    }

    /** Renews {@code lease}; returns the TTL it now has, 0 when the lease has already expired (its keys are gone). */
    public long keepAlive(long lease) throws EtcdException {
        // A bidirectional stream in gRPC; through the gateway one request body gets one answer, then the stream ends.
        JsonNode r = post("/v3/lease/keepalive", JSON.createObjectNode().put("ID", Long.toString(lease)), requestTimeout);
        JsonNode result = r.has("result") ? r.get("result") : r;
        return num(result, "TTL");
    }

    public void revoke(long lease) throws EtcdException {
        post("/v3/lease/revoke", JSON.createObjectNode().put("ID", Long.toString(lease)), requestTimeout);
    }

    /**
     * Whether any endpoint answers, and whether the one that answers has a leader: asked of each member directly (a
     * status request is answered by the member itself, quorum or not), so "up but without quorum" is told apart
     * from "down".
     */
    public record MemberStatus(URI endpoint, boolean answered, boolean hasLeader, String detail) {}

    public List<MemberStatus> status() {
        List<MemberStatus> out = new ArrayList<>();
        for (URI e : endpoints) {
            try {
                JsonNode r = postTo(e, "/v3/maintenance/status", JSON.createObjectNode(), requestTimeout);
                long leader = num(r, "leader");
                List<String> errors = new ArrayList<>();
                r.path("errors").forEach(n -> errors.add(n.asText()));
                out.add(new MemberStatus(e, true, leader != 0 && errors.isEmpty(), leader == 0 ? "no leader" : String.join("; ", errors)));
            } catch (EtcdException x) {
                out.add(new MemberStatus(e, false, false, x.getMessage()));
            }
        }
        return out;
    }

    /** Opens a watch stream on {@code body} (a create_request); the caller reads lines until it closes the stream. */
    HttpResponse<Stream<String>> openWatch(ObjectNode body) throws EtcdException {
        EtcdException last = null;
        for (int i = 0; i < endpoints.size(); i++) {
            int at = Math.floorMod(current.get() + i, endpoints.size());
            URI e = endpoints.get(at);
            HttpRequest req = HttpRequest.newBuilder(e.resolve("/v3/watch"))
                    .header("Content-Type", "application/json")
                    // gRPC metadata through the gateway (etcd's WithRequireLeader): a member that loses its leader
                    // cancels the watch instead of keeping a stream that will never carry another change.
                    .header("Grpc-Metadata-hasleader", "true")
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
            try {
                HttpResponse<Stream<String>> resp = http.send(req, HttpResponse.BodyHandlers.ofLines());
                if (resp.statusCode() != 200) {
                    resp.body().close();
                    throw new EtcdException("etcd " + e + " refused the watch: HTTP " + resp.statusCode());
                }
                current.set(at);
                return resp;
            } catch (IOException x) {
                last = new EtcdException("etcd " + e + " unreachable: " + describe(x), x);
            } catch (InterruptedException x) {
                Thread.currentThread().interrupt();
                throw new EtcdException("interrupted", x);
            }
        }
        throw last;
    }

    private JsonNode post(String path, ObjectNode body, Duration timeout) throws EtcdException {
        EtcdException last = null;
        for (int i = 0; i < endpoints.size(); i++) {
            int at = Math.floorMod(current.get() + i, endpoints.size());
            try {
                JsonNode r = postTo(endpoints.get(at), path, body, timeout);
                current.set(at);
                return r;
            } catch (Unreachable x) {
                last = x;
            }
        }
        throw last;
    }

    /** The endpoint did not answer: the next one may. An error etcd answered with is not retried elsewhere. */
    private static final class Unreachable extends EtcdException {
        Unreachable(String m, Throwable c) { super(m, c); }
    }

    private JsonNode postTo(URI endpoint, String path, ObjectNode body, Duration timeout) throws EtcdException {
        HttpRequest req = HttpRequest.newBuilder(endpoint.resolve(path)).timeout(timeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
        HttpResponse<String> resp;
        try {
            resp = http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new Unreachable("etcd " + endpoint + " unreachable: " + describe(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EtcdException("interrupted", e);
        }
        JsonNode r;
        try {
            r = JSON.readTree(firstLine(resp.body()));
        } catch (IOException e) {
            throw new EtcdException("etcd " + endpoint + path + " answered HTTP " + resp.statusCode() + " with something other than JSON", e);
        }
        if (resp.statusCode() != 200 || r.has("error")) {
            JsonNode err = r.has("error") && r.get("error").isObject() ? r.get("error") : r;
            String message = err.path("message").asText(err.path("error").asText(r.toString()));
            throw new EtcdException("etcd " + endpoint + path + ": " + message + " (HTTP " + resp.statusCode() + ")");
        }
        return r;
    }

    /** Stream answers (keepalive) are one JSON object per line; the first one is the answer. */
    private static String firstLine(String body) {
        int nl = body.indexOf('\n');
        return nl < 0 ? body : body.substring(0, nl);
    }

    private static String describe(Exception e) {
        if (e instanceof HttpTimeoutException) return "no answer in time";
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private static ObjectNode compare(Txn.Compare c) {
        ObjectNode n = JSON.createObjectNode();
        if (c instanceof Txn.Absent a) {
            n.put("key", b64(a.key())).put("target", "CREATE").put("result", "EQUAL").put("create_revision", "0");
        } else if (c instanceof Txn.ModRevisionIs m) {
            n.put("key", b64(m.key())).put("target", "MOD").put("result", "EQUAL").put("mod_revision", Long.toString(m.revision()));
        } else if (c instanceof Txn.LeaseIs l) {
            n.put("key", b64(l.key())).put("target", "LEASE").put("result", "EQUAL").put("lease", Long.toString(l.lease()));
        } else if (c instanceof Txn.RangeUnchangedSince r) {
            // etcd (3.3+) applies a compare with range_end to every key in the range; an empty range compares as revision 0.
            n.put("key", b64(r.from())).put("range_end", b64(r.to()))
                    .put("target", "MOD").put("result", "LESS").put("mod_revision", Long.toString(r.revision() + 1));
        }
        return n;
    }

    private static ObjectNode op(Txn.Op op) {
        ObjectNode n = JSON.createObjectNode();
        if (op instanceof Txn.Put p) {
            ObjectNode put = n.putObject("request_put").put("key", b64(p.key())).put("value", B64.encodeToString(p.value()));
            if (p.lease() != 0) put.put("lease", Long.toString(p.lease()));
        } else if (op instanceof Txn.Delete d) {
            n.putObject("request_delete_range").put("key", b64(d.key()));
        } else if (op instanceof Txn.Get g) {
            n.putObject("request_range").put("key", b64(g.from())).put("range_end", b64(g.to()));
        }
        return n;
    }

    private static Range toRange(JsonNode r) {
        return toRange(r, num(r.path("header"), "revision"));
    }

    private static Range toRange(JsonNode r, long revision) {
        List<Kv> kvs = new ArrayList<>();
        for (JsonNode kv : r.path("kvs")) kvs.add(toKv(kv));
        return new Range(kvs, revision);
    }

    static Kv toKv(JsonNode kv) {
        return new Kv(new String(B64D.decode(kv.path("key").asText()), StandardCharsets.UTF_8),
                kv.has("value") ? B64D.decode(kv.get("value").asText()) : new byte[0],
                num(kv, "create_revision", "createRevision"), num(kv, "mod_revision", "modRevision"), num(kv, "lease"));
    }

    /**
     * The gateway writes int64 and uint64 as strings and leaves out zero values. Member ids (a leader's) are uint64 and
     * often above Long.MAX_VALUE: they are kept as the same 64 bits, only ever compared for (in)equality.
     */
    static long num(JsonNode n, String... names) {
        JsonNode v = field(n, names);
        if (v.isMissingNode() || v.isNull()) return 0;
        String s = v.asText();
        return s.startsWith("-") ? Long.parseLong(s) : Long.parseUnsignedLong(s);
    }

    private static JsonNode field(JsonNode n, String... names) {
        for (String name : names) if (n.has(name)) return n.get(name);
        return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }

    static String b64(String s) { return B64.encodeToString(s.getBytes(StandardCharsets.UTF_8)); }

    /** The first key after every key that starts with {@code prefix}: etcd's range_end for a prefix. */
    static String prefixEnd(String prefix) {
        byte[] b = prefix.getBytes(StandardCharsets.UTF_8);
        for (int i = b.length - 1; i >= 0; i--) {
            if (b[i] != (byte) 0xff) {
                byte[] end = Arrays.copyOf(b, i + 1);
                end[i]++;
                return new String(end, StandardCharsets.UTF_8);
            }
        }
        return "\0";
    }

    @Override
    public void close() {
        // The JDK's HttpClient closes with its last reference (close() is Java 21); nothing is held open between requests.
    }
}
