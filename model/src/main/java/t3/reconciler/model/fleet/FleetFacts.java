package t3.reconciler.model.fleet;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The fleet as one read saw it, at one etcd revision: what goes into observed state. When etcd could not be read
 * ({@code etcd != QUORUM}) every collection is empty and {@code etcdDetail} says why; the planner must then not start
 * a rollout (an empty verdict list means "unknown", not "nothing blocked").
 *
 * @param self           this host's id
 * @param selfHoldsSlot  this host's slot key exists under this controller's live lease
 * @param leaseLost      a lease this controller held expired: any slot it had is gone (stop at the next step boundary)
 * @param verdicts       blocked versions by version text
 * @param promotions     version text, then host, then when that host promoted it
 * @param hosts          published statuses by host (only hosts whose lease is alive)
 */
public record FleetFacts(
        EtcdHealth etcd,
        String etcdDetail,
        long revision,
        String self,
        int maxConcurrentHosts,
        List<SlotHolder> slotHolders,
        boolean selfHoldsSlot,
        boolean leaseLost,
        Map<String, Verdict> verdicts,
        Optional<FleetFreeze> freeze,
        Map<String, Map<String, Instant>> promotions,
        Map<String, HostStatus> hosts) {

    public FleetFacts {
        slotHolders = List.copyOf(slotHolders);
        verdicts = Map.copyOf(verdicts);
        promotions = Map.copyOf(promotions);
        hosts = Map.copyOf(hosts);
    }

    public static FleetFacts unknown(EtcdHealth etcd, String detail, String self, int max, boolean leaseLost) {
        return new FleetFacts(etcd, detail, 0, self, max, List.of(), false, leaseLost, Map.of(), Optional.empty(), Map.of(), Map.of());
    }

    /** Free slots as far as known: none while etcd cannot be read (an unread fleet may be full). */
    public int slotsFree() { return etcd != EtcdHealth.QUORUM ? 0 : Math.max(0, maxConcurrentHosts - slotHolders.size()); }

    public boolean isBlocked(String version) { return verdicts.containsKey(version); }

    /** A slot key names this host, under whichever lease: the live one ({@link #selfHoldsSlot}) or an earlier one of a restarted controller. */
    public boolean selfListedAsHolder() { return slotHolders.stream().anyMatch(h -> h.host().equals(self)); }

    /** The same facts, with {@code selfHoldsSlot} as given (a read that holds no lease judges it from the holders). */
    public FleetFacts withSelfHoldsSlot(boolean holds) {
        return new FleetFacts(etcd, etcdDetail, revision, self, maxConcurrentHosts, slotHolders, holds, leaseLost, verdicts, freeze, promotions, hosts);
    }
}
