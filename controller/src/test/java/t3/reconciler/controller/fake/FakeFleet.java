package t3.reconciler.controller.fake;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.FleetPort;
import t3.reconciler.controller.actuator.fleet.ChangeSource;
import t3.reconciler.controller.actuator.fleet.SlotResult;
import t3.reconciler.model.Version;
import t3.reconciler.model.fleet.EtcdHealth;
import t3.reconciler.model.fleet.FleetFacts;
import t3.reconciler.model.fleet.HostStatus;
import t3.reconciler.model.fleet.SlotHolder;

/**
 * One host's fleet port on a shared {@link FakeEtcd}: several in one JVM make a fleet for fast loop tests. Holds a
 * lease as the real {@code HostLease} does (granted on first use, lost when {@link #loseLease} ends it, granted afresh
 * by the next lock or publish). Every call is recorded in the host's {@link FakeActuators} calls ({@code fleet.lock}, ...).
 */
public final class FakeFleet implements FleetPort {
    private final FakeEtcd etcd;
    private final String self;
    private final int max;
    private final FakeActuators fx;
    private long lease;
    private boolean leaseLost;
    /** Not under this port's lock: another host's write fires these while that host's port is locked. */
    private final List<Runnable> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile boolean closed;

    public FakeFleet(FakeEtcd etcd, String self, int maxConcurrentHosts, FakeActuators fx) {
        this.etcd = etcd;
        this.self = self;
        this.max = maxConcurrentHosts;
        this.fx = fx;
        etcd.watch(() -> {
            if (!closed) listeners.forEach(Runnable::run);
        });
    }

    @Override public String self() { return self; }

    @Override
    public synchronized FleetFacts facts() {
        FakeEtcd.Snapshot s = etcd.read();
        if (s.health() != EtcdHealth.QUORUM) return FleetFacts.unknown(s.health(), "fake etcd is " + s.health(), self, max, leaseLost);
        List<SlotHolder> holders = s.slots().stream().map(x -> new SlotHolder(x.host(), x.since(), x.lease())).toList();
        boolean mine = lease != 0 && s.slots().stream().anyMatch(x -> x.host().equals(self) && x.lease() == lease);
        return new FleetFacts(EtcdHealth.QUORUM, "", s.revision(), self, max, holders, mine, leaseLost, s.verdicts(), s.freeze(), s.promotions(), s.statuses());
    }

    @Override
    public synchronized SlotResult lock() throws ActuatorException {
        fx.enter("fleet.lock " + self);
        long id = leaseId();
        List<SlotHolder> full = call(() -> etcd.lock(self, id, max));
        return full == null ? new SlotResult.Taken(false) : new SlotResult.Full(full, max);
    }

    @Override
    public synchronized SlotResult unlock() throws ActuatorException {
        fx.enter("fleet.unlock " + self);
        return call(() -> etcd.unlock(self, lease)) ? new SlotResult.Released() : new SlotResult.NotHeld();
    }

    @Override
    public synchronized SlotResult releaseStale() throws ActuatorException {
        fx.enter("fleet.releaseStale " + self);
        return call(() -> etcd.releaseStale(self, lease)) ? new SlotResult.Released() : new SlotResult.NotHeld();
    }

    @Override
    public synchronized boolean block(Version version, String reason) throws ActuatorException {
        fx.enter("fleet.block " + version);
        return call(() -> etcd.block(version.toString(), self, reason));
    }

    @Override
    public synchronized void promoted(Version version) throws ActuatorException {
        fx.enter("fleet.promoted " + version);
        call(() -> {
            etcd.promoted(version.toString(), self);
            return null;
        });
    }

    @Override
    public synchronized void publish(HostStatus status) throws ActuatorException {
        long id = leaseId();
        call(() -> {
            etcd.publish(status, id);
            return null;
        });
    }

    @Override
    public ChangeSource changes() {
        return listeners::add;
    }

    /** The lease ran out (the host was cut off past the TTL): its slot and status go, and the facts say so until a fresh lease. */
    public void loseLease() {
        long held;
        synchronized (this) {
            held = lease;
            lease = 0;
            leaseLost = true;
        }
        etcd.expire(held);
    }

    /** What a SIGKILLed controller leaves: its slot stays until {@link FakeEtcd#expire} of the returned lease. */
    public synchronized long lease() { return lease; }

    @Override
    public synchronized void close() {
        if (!closed) fx.enter("fleet.close " + self);
        closed = true;
        if (lease != 0) etcd.expire(lease);
        lease = 0;
    }

    private long leaseId() throws ActuatorException {
        if (lease == 0) {
            call(() -> null);
            lease = etcd.grant();
            leaseLost = false;
        }
        return lease;
    }

    private interface Call<T> {
        T run();
    }

    private <T> T call(Call<T> c) throws ActuatorException {
        try {
            if (etcd.health() != EtcdHealth.QUORUM) throw new IllegalStateException("etcd " + etcd.health());
            return c.run();
        } catch (IllegalStateException e) {
            throw ActuatorException.transientFault("fake etcd: " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() { return "FakeFleet[" + self + "]" + Map.of("lease", lease).entrySet().stream().map(Object::toString).collect(Collectors.joining()); }
}
