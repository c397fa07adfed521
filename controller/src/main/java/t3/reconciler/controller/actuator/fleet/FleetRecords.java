package t3.reconciler.controller.actuator.fleet;

import t3.reconciler.model.fleet.Verdict;
import t3.reconciler.model.fleet.FleetFreeze;
import t3.reconciler.model.fleet.HostStatus;

import java.time.Clock;
import java.util.List;
import t3.reconciler.controller.log.Log;

/**
 * The fleet's shared records other than slots: verdicts, the fleet freeze, canary promotions (no lease: they outlive
 * the host that wrote them) and this host's status (under its lease: it vanishes with the host).
 */
public final class FleetRecords {
    private final EtcdClient etcd;
    private final Keys keys;
    private final HostLease lease;
    private final Clock clock;
    private final Log log;

    public FleetRecords(EtcdClient etcd, Keys keys, HostLease lease, Clock clock, Log log) {
        this.etcd = etcd;
        this.keys = keys;
        this.lease = lease;
        this.clock = clock;
        this.log = log;
    }

    /** Blocks {@code version} for the group. The first verdict stands (its host and reason say where it first failed). */
    public boolean block(String version, String host, String reason) throws EtcdException {
        String key = keys.verdict(version);
        Verdict v = new Verdict(version, host, reason, clock.instant());
        boolean first = etcd.txn(new Txn(List.of(new Txn.Absent(key)), List.of(new Txn.Put(key, FleetJson.verdict(v), 0)), List.of())).succeeded();
        log.info("fleet-verdict", Log.kv("version", version, "host", host, "outcome", first ? "blocked" : "already-blocked", "reason", reason));
        return first;
    }

    /** The operator's {@code fleet unblock VERSION}; true when there was a verdict to lift. */
    public boolean unblock(String version) throws EtcdException {
        boolean had = delete(keys.verdict(version));
        log.info("fleet-verdict", Log.kv("version", version, "outcome", had ? "unblocked" : "not-blocked", "reason", "operator unblock"));
        return had;
    }

    public void freeze(String by, String reason) throws EtcdException {
        etcd.txn(new Txn(List.of(), List.of(new Txn.Put(keys.freeze(), FleetJson.freeze(new FleetFreeze(by, reason, clock.instant())), 0)), List.of()));
        log.info("fleet-freeze", Log.kv("by", by, "outcome", "frozen", "reason", reason));
    }

    public boolean unfreeze(String by) throws EtcdException {
        boolean had = delete(keys.freeze());
        log.info("fleet-freeze", Log.kv("by", by, "outcome", had ? "unfrozen" : "was-not-frozen", "reason", "operator unfreeze"));
        return had;
    }

    /** {@code host} promoted {@code version} now: the soak of the hosts after it counts from here. */
    public void promoted(String version, String host) throws EtcdException {
        String key = keys.promotion(version, host);
        // The first promotion's time stands: promoting again (a retry after a crash) must not restart the others' soak.
        etcd.txn(new Txn(List.of(new Txn.Absent(key)), List.of(new Txn.Put(key, FleetJson.promotion(clock.instant()), 0)), List.of()));
        log.info("fleet-promotion", Log.kv("version", version, "host", host, "reason", "promoted"));
    }

    /** Publishes this host's status under its lease; the heartbeat is the status's own time. */
    public void publish(HostStatus status) throws EtcdException {
        etcd.txn(new Txn(List.of(), List.of(new Txn.Put(keys.status(status.host()), FleetJson.status(status), lease.id())), List.of()));
    }

    private boolean delete(String key) throws EtcdException {
        return etcd.txn(new Txn(List.of(new Txn.Absent(key)), List.of(), List.of(new Txn.Delete(key)))).succeeded() == false;
    }
}
