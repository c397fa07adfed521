package t3.reconciler.controller.actuator.fleet;

import t3.reconciler.model.fleet.SlotHolder;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import t3.reconciler.controller.log.Log;

/**
 * FleetLock's counting semaphore on etcd: at most {@code max} hosts hold a rollout slot at once. A slot is one key per
 * holder, {@code slots/<host>}, put under the holder's lease, so a dead host's slot frees itself after the TTL.
 *
 * <p>Taking a slot reads the holders at revision R, then commits in one transaction only if the caller's key is absent
 * and no key under {@code slots/} was created or changed after R: the set of holders at commit is a subset of the one
 * counted, so never more than {@code max} (a deletion in between only frees room). A lost race is read again. Locks
 * are owned and recursive: the holder that has the slot gets {@code Taken(already)}; unlocking needs the key to be
 * under the caller's lease, so one host cannot free another's slot (an operator can: {@link #forceUnlock}).
 */
public final class RolloutSlots {
    private static final int ATTEMPTS = 16;

    private final EtcdClient etcd;
    private final Keys keys;
    private final HostLease lease;
    private final Clock clock;
    private final Log log;

    public RolloutSlots(EtcdClient etcd, Keys keys, HostLease lease, Clock clock, Log log) {
        this.etcd = etcd;
        this.keys = keys;
        this.lease = lease;
        this.clock = clock;
        this.log = log;
    }

    public SlotResult lock(String host, int max) throws EtcdException {
        String key = keys.slot(host);
        long id = lease.id();
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            Range r = etcd.prefix(keys.slots());
            Optional<Kv> mine = r.kvs().stream().filter(kv -> kv.key().equals(key)).findFirst();
            if (mine.isPresent() && mine.get().lease() == id) return decided(host, new SlotResult.Taken(true), "already held");
            byte[] value = FleetJson.slot(host, clock.instant());
            if (mine.isPresent()) {
                // Our own key under an earlier lease (this controller restarted): move it to the live lease; the count does not change.
                var t = etcd.txn(new Txn(List.of(new Txn.ModRevisionIs(key, mine.get().modRevision())), List.of(new Txn.Put(key, value, id)), List.of()));
                if (t.succeeded()) return decided(host, new SlotResult.Taken(true), "held under an earlier lease, moved to lease " + Long.toHexString(id));
                continue;
            }
            if (r.kvs().size() >= max) {
                List<SlotHolder> holders = holders(r);
                return decided(host, new SlotResult.Full(holders, max), "all " + max + " held by " + holders.stream().map(SlotHolder::host).toList());
            }
            var t = etcd.txn(new Txn(
                    List.of(new Txn.Absent(key), new Txn.RangeUnchangedSince(keys.slots(), EtcdClient.prefixEnd(keys.slots()), r.revision())),
                    List.of(new Txn.Put(key, value, id)), List.of()));
            if (t.succeeded()) return decided(host, new SlotResult.Taken(false), "took slot " + (r.kvs().size() + 1) + " of " + max);
        }
        throw new EtcdException("could not take a slot in " + ATTEMPTS + " attempts: the slots keep changing under contention");
    }

    public SlotResult unlock(String host) throws EtcdException {
        String key = keys.slot(host);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            Optional<Kv> held = etcd.get(key).kvs().stream().findFirst();
            if (held.isEmpty()) return decided(host, new SlotResult.NotHeld(), "no slot held");
            long id = lease.current();
            if (id == 0 || held.get().lease() != id) {
                return decided(host, new SlotResult.Refused(FleetJson.slotHolder(held.get()).host()), "held under another lease");
            }
            if (etcd.txn(new Txn(List.of(new Txn.LeaseIs(key, id)), List.of(new Txn.Delete(key)), List.of())).succeeded()) {
                return decided(host, new SlotResult.Released(), "released");
            }
        }
        throw new EtcdException("could not release the slot in " + ATTEMPTS + " attempts");
    }

    /**
     * Frees a slot held under an earlier lease of this same host (a controller that restarted mid-rollout): Zincati's
     * release-at-start. A slot under the live lease is left alone.
     */
    public SlotResult releaseStale(String host) throws EtcdException {
        String key = keys.slot(host);
        Optional<Kv> held = etcd.get(key).kvs().stream().findFirst();
        if (held.isEmpty() || (held.get().lease() == lease.current() && held.get().lease() != 0)) return new SlotResult.NotHeld();
        boolean done = etcd.txn(new Txn(List.of(new Txn.ModRevisionIs(key, held.get().modRevision())), List.of(new Txn.Delete(key)), List.of())).succeeded();
        return decided(host, done ? new SlotResult.Released() : new SlotResult.NotHeld(), done ? "released a slot held under an earlier lease" : "changed meanwhile");
    }

    /** The operator's {@code fleet unlock HOST}: frees the slot whoever holds it. */
    public SlotResult forceUnlock(String host) throws EtcdException {
        String key = keys.slot(host);
        var t = etcd.txn(new Txn(List.of(new Txn.Absent(key)), List.of(), List.of(new Txn.Delete(key))));
        return decided(host, t.succeeded() ? new SlotResult.NotHeld() : new SlotResult.Released(), "operator unlock");
    }

    public List<SlotHolder> holders() throws EtcdException {
        return holders(etcd.prefix(keys.slots()));
    }

    static List<SlotHolder> holders(Range r) {
        List<SlotHolder> out = new ArrayList<>();
        for (Kv kv : r.kvs()) out.add(FleetJson.slotHolder(kv));
        return out;
    }

    private SlotResult decided(String host, SlotResult result, String reason) {
        log.info("fleet-slot", Log.kv("host", host, "outcome", result.getClass().getSimpleName(), "reason", reason));
        return result;
    }
}
