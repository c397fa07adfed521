package t3.reconciler.controller.loop;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.FleetPort;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.plan.Gate;
import t3.reconciler.controller.plan.PassOutcome;
import t3.reconciler.model.ObservedState;
import t3.reconciler.model.Rollout;
import t3.reconciler.model.UserState;
import t3.reconciler.model.Version;
import t3.reconciler.model.fleet.EtcdHealth;
import t3.reconciler.model.fleet.FleetFacts;
import t3.reconciler.model.fleet.HostStatus;

/**
 * This host's status in the fleet ({@code status/<host>}, under its lease), written at the end of a pass, not as a
 * planner step: it decides nothing, and no host reads another's status to decide. Written only when it changed
 * (heartbeat aside), when the fleet lost it (the lease expired: publishing grants a fresh lease, which is how the next
 * pass can take a slot again), or when the last write is older than {@code refresh} (the heartbeat a resync keeps fresh).
 */
final class StatusPublisher {
    private final Log log;
    private HostStatus lastPublished;
    private Instant lastAt = Instant.EPOCH;
    private boolean failing;

    StatusPublisher(Log log) { this.log = log; }

    void afterPass(Optional<FleetPort> port, ObservedState obs, PassOutcome outcome, Optional<Gate> gate, Duration refresh) {
        if (port.isEmpty() || obs == null) return;
        FleetPort p = port.get();
        HostStatus now = of(p.self(), obs, outcome, gate);
        Optional<FleetFacts> facts = obs.fleet();
        // Without a quorum a write fails too, after its timeout: the pass that sees etcd back publishes.
        if (facts.isPresent() && facts.get().etcd() != EtcdHealth.QUORUM) return;
        boolean lost = facts.map(f -> f.leaseLost() || (f.revision() > 0 && !f.hosts().containsKey(p.self()))).orElse(false);
        boolean changed = lastPublished == null || !sameButHeartbeat(lastPublished, now);
        boolean stale = !obs.now().isBefore(lastAt.plus(refresh));
        if (!changed && !lost && !stale) return;
        try {
            p.publish(now);
            lastPublished = now;
            lastAt = obs.now();
            if (failing) log.info("fleet-status", Log.kv("outcome", "published", "reason", "etcd answers again"));
            failing = false;
        } catch (ActuatorException e) {
            // Display only: a status that could not be written is tried again after the next pass.
            if (!failing) log.warn("fleet-status", Log.kv("outcome", "failed", "reason", "cannot publish this host's status: " + e.getMessage()));
            failing = true;
        }
    }

    static HostStatus of(String self, ObservedState obs, PassOutcome outcome, Optional<Gate> gate) {
        Map<String, String> users = new LinkedHashMap<>();
        for (UserState u : obs.users()) users.put(u.name(), u.runningVersion().map(Version::toString).orElse(u.activeState()));
        return new HostStatus(self, obs.installed().map(Version::toString), obs.lastGood().map(Version::toString), users,
                obs.breaker().status().name().toLowerCase().replace('_', '-'), phase(obs.rollout(), outcome, gate), obs.now());
    }

    /** For people ({@code fleet status}): what the host is doing, in a few words. */
    static String phase(Optional<Rollout> rollout, PassOutcome outcome, Optional<Gate> gate) {
        String held = gate.map(g -> " (held: " + g.label() + ")").orElse("");
        if (rollout.isPresent()) return (rollout.get().failed() ? "rolling-back " : "rolling-out ") + rollout.get().target() + held;
        if (gate.isPresent()) return "held: " + gate.get().label();
        return outcome.label();
    }

    private static boolean sameButHeartbeat(HostStatus a, HostStatus b) {
        return a.host().equals(b.host()) && a.installed().equals(b.installed()) && a.lastGood().equals(b.lastGood()) && a.users().equals(b.users())
                && a.breaker().equals(b.breaker()) && a.phase().equals(b.phase());
    }
}
