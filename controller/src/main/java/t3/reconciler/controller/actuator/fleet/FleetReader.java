package t3.reconciler.controller.actuator.fleet;

import t3.reconciler.model.fleet.FleetFacts;
import t3.reconciler.model.fleet.SlotHolder;
import t3.reconciler.model.fleet.Verdict;
import t3.reconciler.model.fleet.FleetFreeze;
import t3.reconciler.model.fleet.HostStatus;
import t3.reconciler.model.fleet.EtcdHealth;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Reads the whole group in one linearizable range request (one revision, so slots, verdicts and freeze agree with each
 * other) into {@link FleetFacts}. When that read fails, each member is asked for its status to tell "no quorum" from
 * "unreachable"; no exception leaves: the facts say what is known.
 */
public final class FleetReader {
    private final EtcdClient etcd;
    private final Keys keys;
    private final HostLease lease;
    private final String self;
    private final int max;

    public FleetReader(EtcdClient etcd, Keys keys, HostLease lease, String self, int maxConcurrentHosts) {
        this.etcd = etcd;
        this.keys = keys;
        this.lease = lease;
        this.self = self;
        this.max = maxConcurrentHosts;
    }

    public FleetFacts read() {
        Range r;
        try {
            r = etcd.prefix(keys.root());
        } catch (EtcdException e) {
            List<EtcdClient.MemberStatus> members = etcd.status();
            boolean anyAnswered = members.stream().anyMatch(EtcdClient.MemberStatus::answered);
            String detail = members.stream().map(m -> m.endpoint() + ": " + (m.answered() ? (m.hasLeader() ? "up" : m.detail()) : m.detail()))
                    .collect(Collectors.joining("; "));
            return FleetFacts.unknown(anyAnswered ? EtcdHealth.NO_QUORUM : EtcdHealth.UNREACHABLE,
                    e.getMessage() + " [" + detail + "]", self, max, lease.lost());
        }
        List<SlotHolder> holders = new ArrayList<>();
        boolean selfHolds = false;
        Map<String, Verdict> verdicts = new HashMap<>();
        Optional<FleetFreeze> freeze = Optional.empty();
        Map<String, Map<String, Instant>> promotions = new HashMap<>();
        Map<String, HostStatus> hosts = new HashMap<>();
        long live = lease.current();
        for (Kv kv : r.kvs()) {
            String k = kv.key();
            if (k.startsWith(keys.slots())) {
                SlotHolder h = FleetJson.slotHolder(kv);
                holders.add(h);
                if (h.host().equals(self) && live != 0 && kv.lease() == live) selfHolds = true;
            } else if (k.startsWith(keys.verdicts())) {
                Verdict v = FleetJson.verdict(kv);
                verdicts.put(v.version(), v);
            } else if (k.equals(keys.freeze())) {
                freeze = Optional.of(FleetJson.freeze(kv));
            } else if (k.startsWith(keys.promotions())) {
                String rest = k.substring(keys.promotions().length());
                int slash = rest.indexOf('/');
                if (slash > 0) {
                    promotions.computeIfAbsent(rest.substring(0, slash), x -> new HashMap<>()).put(rest.substring(slash + 1), FleetJson.promotionTime(kv));
                }
            } else if (k.startsWith(keys.statuses())) {
                HostStatus s = FleetJson.status(kv);
                hosts.put(s.host(), s);
            }
        }
        Map<String, Map<String, Instant>> frozenPromotions = new HashMap<>();
        promotions.forEach((v, m) -> frozenPromotions.put(v, Map.copyOf(m)));
        return new FleetFacts(EtcdHealth.QUORUM, "", r.revision(), self, max, holders, selfHolds, lease.lost(), verdicts, freeze,
                frozenPromotions, hosts);
    }
}
