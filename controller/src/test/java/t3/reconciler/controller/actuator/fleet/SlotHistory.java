package t3.reconciler.controller.actuator.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Every change etcd ever made to a group's slot keys, replayed from revision 1 through a watch (the test clusters never
 * compact): the exact, linearizable history of who held a slot, which no controller's clock can blur. The replay ends
 * at a marker key written just before it, outside the group's prefix, so the hosts' watches never see it.
 */
public final class SlotHistory {
    /** The holders after each revision that changed a slot key. */
    public record Step(long revision, List<String> holders) {}

    private SlotHistory() {}

    public static List<Step> replay(EtcdClient etcd, String group) throws EtcdException, IOException {
        Keys keys = new Keys(group);
        // Sorts after every key of every group ('~' after [a-z0-9._-]); the watch's range runs from the slots to it.
        String marker = "/t3-reconciler/~slot-history-marker";
        long markedAt = etcd.txn(new Txn(List.of(), List.of(new Txn.Put(marker, new byte[] {'1'}, 0)), List.of())).revision();
        ObjectNode create = EtcdClient.JSON.createObjectNode();
        create.putObject("create_request")
                .put("key", EtcdClient.b64(keys.slots()))
                .put("range_end", EtcdClient.b64(EtcdClient.prefixEnd(marker)))
                .put("start_revision", "1");
        List<Step> steps = new ArrayList<>();
        TreeSet<String> held = new TreeSet<>();
        HttpResponse<Stream<String>> resp = etcd.openWatch(create);
        try (Stream<String> lines = resp.body()) {
            Iterator<String> it = lines.iterator();
            long revision = -1;
            while (it.hasNext()) {
                String line = it.next();
                if (line.isBlank()) continue;
                JsonNode result = EtcdClient.JSON.readTree(line).path("result");
                for (JsonNode ev : result.path("events")) {
                    Kv kv = EtcdClient.toKv(ev.path("kv"));
                    if (kv.key().equals(marker) && kv.modRevision() >= markedAt) {
                        if (revision >= 0) steps.add(new Step(revision, List.copyOf(held)));
                        return steps;
                    }
                    if (!kv.key().startsWith(keys.slots())) continue;
                    // One transaction is one revision: count the holders once it is applied whole.
                    if (revision >= 0 && kv.modRevision() != revision) steps.add(new Step(revision, List.copyOf(held)));
                    revision = kv.modRevision();
                    String host = kv.key().substring(keys.slots().length());
                    // The gateway leaves out enum zero values: no type is a PUT.
                    if ("DELETE".equals(ev.path("type").asText())) held.remove(host);
                    else held.add(host);
                }
            }
        }
        throw new IOException("the watch ended before the marker at revision " + markedAt);
    }
}
