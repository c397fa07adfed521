package t3.reconciler.controller.actuator.fleet;

import t3.reconciler.model.fleet.SlotHolder;
import t3.reconciler.model.fleet.Verdict;
import t3.reconciler.model.fleet.FleetFreeze;
import t3.reconciler.model.fleet.HostStatus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The values stored under the fleet's keys, as small JSON objects (readable with {@code etcdctl get}). Times are epoch
 * milliseconds of the writing host's clock. A value that does not parse (written by hand, or by a newer controller)
 * reads with defaults rather than failing the whole fleet view.
 */
final class FleetJson {
    private FleetJson() {}

    static byte[] slot(String host, Instant since) {
        return bytes(EtcdClient.JSON.createObjectNode().put("holder", host).put("since", since.toEpochMilli()));
    }

    static SlotHolder slotHolder(Kv kv) {
        JsonNode n = parse(kv);
        String host = kv.key().substring(kv.key().lastIndexOf('/') + 1);
        return new SlotHolder(host, Instant.ofEpochMilli(n.path("since").asLong(0)), kv.lease());
    }

    static byte[] verdict(Verdict v) {
        return bytes(EtcdClient.JSON.createObjectNode().put("host", v.host()).put("reason", v.reason()).put("at", v.at().toEpochMilli()));
    }

    static Verdict verdict(Kv kv) {
        JsonNode n = parse(kv);
        return new Verdict(last(kv.key()), n.path("host").asText(""), n.path("reason").asText(""), Instant.ofEpochMilli(n.path("at").asLong(0)));
    }

    static byte[] freeze(FleetFreeze f) {
        return bytes(EtcdClient.JSON.createObjectNode().put("by", f.by()).put("reason", f.reason()).put("at", f.at().toEpochMilli()));
    }

    static FleetFreeze freeze(Kv kv) {
        JsonNode n = parse(kv);
        return new FleetFreeze(n.path("by").asText(""), n.path("reason").asText(""), Instant.ofEpochMilli(n.path("at").asLong(0)));
    }

    static byte[] promotion(Instant at) {
        return bytes(EtcdClient.JSON.createObjectNode().put("at", at.toEpochMilli()));
    }

    static Instant promotionTime(Kv kv) {
        return Instant.ofEpochMilli(parse(kv).path("at").asLong(0));
    }

    static byte[] status(HostStatus s) {
        ObjectNode n = EtcdClient.JSON.createObjectNode();
        s.installed().ifPresent(v -> n.put("installed", v));
        s.lastGood().ifPresent(v -> n.put("lastGood", v));
        ObjectNode users = n.putObject("users");
        s.users().forEach(users::put);
        n.put("breaker", s.breaker()).put("phase", s.phase()).put("heartbeat", s.heartbeat().toEpochMilli());
        return bytes(n);
    }

    static HostStatus status(Kv kv) {
        JsonNode n = parse(kv);
        Map<String, String> users = new LinkedHashMap<>();
        n.path("users").fields().forEachRemaining(e -> users.put(e.getKey(), e.getValue().asText()));
        return new HostStatus(last(kv.key()), text(n, "installed"), text(n, "lastGood"), users, n.path("breaker").asText(""),
                n.path("phase").asText(""), Instant.ofEpochMilli(n.path("heartbeat").asLong(0)));
    }

    private static Optional<String> text(JsonNode n, String field) {
        return n.hasNonNull(field) ? Optional.of(n.get(field).asText()) : Optional.empty();
    }

    static String last(String key) { return key.substring(key.lastIndexOf('/') + 1); }

    private static JsonNode parse(Kv kv) {
        try {
            JsonNode n = EtcdClient.JSON.readTree(kv.value());
            return n == null ? EtcdClient.JSON.createObjectNode() : n;
        } catch (IOException e) {
            return EtcdClient.JSON.createObjectNode();
        }
    }

    private static byte[] bytes(ObjectNode n) { return n.toString().getBytes(StandardCharsets.UTF_8); }
}
