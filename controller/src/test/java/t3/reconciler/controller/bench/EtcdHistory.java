package t3.reconciler.controller.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Every put and delete under a prefix between two revisions, in revision order, replayed from etcd's own history by a
 * watch that starts in the past (etcd keeps it until compaction): the exact order of slot takes and releases, which
 * no sampling of the current keys can give.
 */
final class EtcdHistory {
    record Change(long revision, String key, boolean put) {}

    private EtcdHistory() {}

    /**
     * The changes under {@code prefix} from {@code fromRevision} up to {@code endMarker}, a key under the prefix the
     * caller put last: the stream ends at it (a watch never says "no more history").
     */
    static List<Change> until(URI endpoint, String prefix, long fromRevision, String endMarker) throws IOException, InterruptedException {
        ObjectMapper json = new ObjectMapper();
        var create = json.createObjectNode();
        var req = create.putObject("create_request");
        req.put("key", b64(prefix));
        req.put("range_end", b64(prefixEnd(prefix)));
        req.put("start_revision", fromRevision);
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<java.io.InputStream> resp = http.send(HttpRequest.newBuilder(endpoint.resolve("/v3/watch"))
                .POST(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(create))).build(), HttpResponse.BodyHandlers.ofInputStream());
        List<Change> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                for (JsonNode ev : json.readTree(line).path("result").path("events")) {
                    String key = new String(Base64.getDecoder().decode(ev.path("kv").path("key").asText()), StandardCharsets.UTF_8);
                    if (key.equals(endMarker)) return out;
                    out.add(new Change(ev.path("kv").path("mod_revision").asLong(), key, !"DELETE".equals(ev.path("type").asText())));
                }
            }
        } finally {
            resp.body().close();
        }
        throw new IOException("the watch ended before " + endMarker);
    }

    /** The most keys under {@code prefix} that existed at once, replaying puts and deletes from an empty start. */
    static int peak(List<Change> changes, java.util.Set<String> presentAtStart) {
        java.util.Set<String> now = new java.util.HashSet<>(presentAtStart);
        int peak = now.size();
        for (Change c : changes) {
            if (c.put()) now.add(c.key());
            else now.remove(c.key());
            peak = Math.max(peak, now.size());
        }
        return peak;
    }

    private static String b64(String s) { return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8)); }

    private static String prefixEnd(String p) {
        byte[] b = p.getBytes(StandardCharsets.UTF_8);
        b[b.length - 1]++;
        return new String(b, StandardCharsets.UTF_8);
    }
}
