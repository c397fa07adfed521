package t3.reconciler.controller.actuator.fleet;

import t3.reconciler.model.fleet.FleetFacts;
import t3.reconciler.model.fleet.HostStatus;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import t3.reconciler.controller.actuator.FleetPort;
import t3.reconciler.controller.log.Log;
import t3.reconciler.model.Version;
import t3.reconciler.model.DesiredState;

/**
 * Everything one controller uses of the fleet, opened from {@code fleet:}: the etcd client, this host's lease, the
 * slots, the shared records, the facts reader and the watch. One per controller; closing it revokes the lease (the
 * slot and status key go at once instead of after the TTL).
 */
public final class Fleet implements FleetPort {
    /** Long enough for a loaded etcd, short enough that a pass without quorum does not hang the loop for long. */
    public static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(3);

    public final String self;
    public final DesiredState.Fleet spec;
    public final EtcdClient etcd;
    public final Keys keys;
    public final HostLease lease;
    public final RolloutSlots slots;
    public final FleetRecords records;
    public final FleetReader reader;
    private final Log log;
    private FleetWatch watch;

    public Fleet(DesiredState.Fleet spec, String self, Clock clock, Log log) throws EtcdException {
        this.spec = spec;
        this.self = self;
        this.etcd = new EtcdClient(spec.endpoints(), spec.tls().isPresent() ? Optional.of(EtcdTls.context(spec.tls().get())) : Optional.empty(), REQUEST_TIMEOUT);
        this.keys = new Keys(spec.group());
        this.lease = new HostLease(etcd, spec.leaseTtl(), log);
        this.slots = new RolloutSlots(etcd, keys, lease, clock, log);
        this.records = new FleetRecords(etcd, keys, lease, clock, log);
        this.reader = new FleetReader(etcd, keys, lease, self, spec.maxConcurrentHosts());
        this.log = log;
    }

    public static Fleet open(DesiredState.Fleet spec, Clock clock, Log log) throws EtcdException {
        return new Fleet(spec, HostId.of(spec), clock, log);
    }

    @Override public String self() { return self; }

    @Override public FleetFacts facts() { return reader.read(); }

    @Override public SlotResult lock() throws EtcdException { return slots.lock(self, spec.maxConcurrentHosts()); }

    @Override public SlotResult unlock() throws EtcdException { return slots.unlock(self); }

    @Override public SlotResult releaseStale() throws EtcdException { return slots.releaseStale(self); }

    @Override public boolean block(Version version, String reason) throws EtcdException { return records.block(version.toString(), self, reason); }

    @Override public void promoted(Version version) throws EtcdException { records.promoted(version.toString(), self); }

    @Override public void publish(HostStatus status) throws EtcdException { records.publish(status); }

    /** The watch on the group, started on first use: register it with the loop as a trigger source. */
    @Override
    public synchronized ChangeSource changes() {
        if (watch == null) watch = new FleetWatch(etcd, keys, 0, log).start();
        return watch;
    }

    @Override
    public synchronized void close() {
        if (watch != null) watch.close();
        lease.close();
        etcd.close();
    }
}
