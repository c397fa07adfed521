package t3.reconciler.controller.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/**
 * The counters of a whole etcd cluster that say what a fleet costs it, from each member's {@code /metrics}
 * (Prometheus text). Requests and watch events are summed over the members (each is served by one); writes are
 * applied by every member, so the leader's count (the largest) is the cluster's.
 *
 * @param requests      gRPC calls handled, every method (the JSON gateway goes through them): {@code grpc_server_handled_total}
 * @param writes        keys put or deleted: {@code etcd_debugging_mvcc_put_total + _delete_total}
 * @param txns          transactions applied: {@code etcd_debugging_mvcc_txn_total}
 * @param watchEvents   events sent to watchers: {@code etcd_debugging_mvcc_events_total}
 * @param watchers      watchers open now: {@code etcd_debugging_mvcc_watcher_total}
 * @param cpuSeconds    CPU time of the member processes: {@code process_cpu_seconds_total}
 * @param firstMember   the requests of the first endpoint alone (every client starts there and stays until it fails)
 */
record EtcdMetrics(double requests, double writes, double txns, double watchEvents, double watchers, double cpuSeconds, double firstMember) {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    static EtcdMetrics scrape(List<URI> members) throws IOException, InterruptedException {
        double req = 0, writes = 0, txns = 0, events = 0, watchers = 0, cpu = 0, first = -1;
        for (URI m : members) {
            String text = HTTP.send(HttpRequest.newBuilder(m.resolve("/metrics")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
            double handled = sum(text, "grpc_server_handled_total");
            if (first < 0) first = handled;
            req += handled;
            writes = Math.max(writes, sum(text, "etcd_debugging_mvcc_put_total") + sum(text, "etcd_debugging_mvcc_delete_total"));
            txns = Math.max(txns, sum(text, "etcd_debugging_mvcc_txn_total"));
            events += sum(text, "etcd_debugging_mvcc_events_total");
            watchers += sum(text, "etcd_debugging_mvcc_watcher_total");
            cpu += sum(text, "process_cpu_seconds_total");
        }
        return new EtcdMetrics(req, writes, txns, events, watchers, cpu, first);
    }

    EtcdMetrics minus(EtcdMetrics o) {
        return new EtcdMetrics(requests - o.requests, writes - o.writes, txns - o.txns, watchEvents - o.watchEvents, watchers, cpuSeconds - o.cpuSeconds, firstMember - o.firstMember);
    }

    /** Every series of {@code name} (any labels), summed. */
    static double sum(String text, String name) {
        double s = 0;
        for (String line : text.split("\n")) {
            if (line.startsWith("#") || !line.startsWith(name)) continue;
            int at = name.length();
            if (line.length() > at && line.charAt(at) != ' ' && line.charAt(at) != '{') continue;
            s += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
        return s;
    }
}
