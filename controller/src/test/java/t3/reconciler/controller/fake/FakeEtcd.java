package t3.reconciler.controller.fake;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import t3.reconciler.model.fleet.EtcdHealth;
import t3.reconciler.model.fleet.FleetFreeze;
import t3.reconciler.model.fleet.HostStatus;
import t3.reconciler.model.fleet.SlotHolder;
import t3.reconciler.model.fleet.Verdict;

/**
 * One group's keyspace in memory, shared by the {@link FakeFleet}s of several hosts in one JVM: slots under leases,
 * verdicts, the freeze, promotions and statuses, with the real layer's rules (a slot counts against the max until its
 * holder unlocks it or its lease ends; the first verdict and the first promotion stand). Every method is atomic under
 * this object's lock, as etcd's transactions are; {@link #down} makes every call fail as an unreachable etcd does.
 * Watchers are told of every change but status writes, as the real watch filters them.
 */
public final class FakeEtcd {
    record Slot(String host, Instant since, long lease) {}

    private final Clock clock;
    private final Map<String, Slot> slots = new LinkedHashMap<>();
    private final Map<String, Verdict> verdicts = new LinkedHashMap<>();
    private final Map<String, Map<String, Instant>> promotions = new HashMap<>();
    private final Map<String, HostStatus> statuses = new HashMap<>();
    private final Map<String, Long> statusLease = new HashMap<>();
    private Optional<FleetFreeze> freeze = Optional.empty();
    private EtcdHealth health = EtcdHealth.QUORUM;
    private long revision = 1;
    private long nextLease = 1;
    /** The most hosts ever seen holding a slot at once: what "never more than maxConcurrentHosts" is asserted on. */
    private int maxHeld;
    private final List<Runnable> watchers = new CopyOnWriteArrayList<>();

    public FakeEtcd(Clock clock) { this.clock = clock; }

    /** etcd unreachable (or without quorum) until {@link #up}: reads report it, writes throw. Watchers are told, as the real watch is. */
    public void down(EtcdHealth how) {
        synchronized (this) {
            health = how;
        }
        fire();
    }

    public void up() { down(EtcdHealth.QUORUM); }

    synchronized EtcdHealth health() { return health; }

    synchronized long grant() {
        return nextLease++;
    }

    /** The lease ran out: its slot and status keys go, as etcd deletes them. */
    public void expire(long lease) {
        synchronized (this) {
            slots.values().removeIf(s -> s.lease() == lease);
            statusLease.entrySet().removeIf(e -> {
                if (e.getValue() != lease) return false;
                statuses.remove(e.getKey());
                return true;
            });
            revision++;
        }
        fire();
    }

    synchronized Snapshot read() {
        return new Snapshot(health, revision, new ArrayList<>(slots.values()), Map.copyOf(verdicts), freeze, copy(promotions), Map.copyOf(statuses));
    }

    record Snapshot(EtcdHealth health, long revision, List<Slot> slots, Map<String, Verdict> verdicts, Optional<FleetFreeze> freeze,
                    Map<String, Map<String, Instant>> promotions, Map<String, HostStatus> statuses) {}

    /** @return null when taken (or already held), else the holders (full) */
    List<SlotHolder> lock(String host, long lease, int max) {
        List<SlotHolder> full;
        synchronized (this) {
            requireUp();
            Slot mine = slots.get(host);
            if (mine != null && mine.lease() == lease) return null;
            if (mine == null && slots.size() >= max) {
                full = slots.values().stream().map(s -> new SlotHolder(s.host(), s.since(), s.lease())).toList();
                return full;
            }
            slots.put(host, new Slot(host, clock.instant(), lease));
            maxHeld = Math.max(maxHeld, slots.size());
            revision++;
        }
        fire();
        return null;
    }

    /** @return whether a slot under {@code lease} was deleted */
    boolean unlock(String host, long lease) {
        synchronized (this) {
            requireUp();
            Slot mine = slots.get(host);
            if (mine == null || mine.lease() != lease) return false;
            slots.remove(host);
            revision++;
        }
        fire();
        return true;
    }

    boolean releaseStale(String host, long liveLease) {
        synchronized (this) {
            requireUp();
            Slot mine = slots.get(host);
            if (mine == null || mine.lease() == liveLease) return false;
            slots.remove(host);
            revision++;
        }
        fire();
        return true;
    }

    /** The operator's {@code fleet unlock HOST}. */
    public void forceUnlock(String host) {
        synchronized (this) {
            slots.remove(host);
            revision++;
        }
        fire();
    }

    boolean block(String version, String host, String reason) {
        synchronized (this) {
            requireUp();
            if (verdicts.containsKey(version)) return false;
            verdicts.put(version, new Verdict(version, host, reason, clock.instant()));
            revision++;
        }
        fire();
        return true;
    }

    /** The operator's {@code fleet unblock VERSION}. */
    public void unblock(String version) {
        synchronized (this) {
            verdicts.remove(version);
            revision++;
        }
        fire();
    }

    public void freeze(String by, String reason) {
        synchronized (this) {
            freeze = Optional.of(new FleetFreeze(by, reason, clock.instant()));
            revision++;
        }
        fire();
    }

    public void unfreeze() {
        synchronized (this) {
            freeze = Optional.empty();
            revision++;
        }
        fire();
    }

    void promoted(String version, String host) {
        synchronized (this) {
            requireUp();
            if (promotions.computeIfAbsent(version, v -> new HashMap<>()).putIfAbsent(host, clock.instant()) != null) return;
            revision++;
        }
        fire();
    }

    /** Not fired: statuses are display only, and the real watch ignores them (no wake-up storm). */
    synchronized void publish(HostStatus s, long lease) {
        requireUp();
        statuses.put(s.host(), s);
        statusLease.put(s.host(), lease);
        revision++;
    }

    void watch(Runnable r) { watchers.add(r); }

    public synchronized Map<String, Verdict> verdicts() { return Map.copyOf(verdicts); }

    public synchronized Map<String, Instant> promotions(String version) { return Map.copyOf(promotions.getOrDefault(version, Map.of())); }

    public synchronized List<String> holders() { return slots.values().stream().map(Slot::host).toList(); }

    public synchronized int maxHeldAtOnce() { return maxHeld; }

    public synchronized Optional<HostStatus> status(String host) { return Optional.ofNullable(statuses.get(host)); }

    private void requireUp() {
        if (health != EtcdHealth.QUORUM) throw new IllegalStateException("etcd " + health);
    }

    private void fire() {
        for (Runnable r : watchers) r.run();
    }

    private static Map<String, Map<String, Instant>> copy(Map<String, Map<String, Instant>> m) {
        Map<String, Map<String, Instant>> out = new HashMap<>();
        m.forEach((k, v) -> out.put(k, Map.copyOf(v)));
        return out;
    }
}
