package t3.reconciler.controller.plan;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import t3.reconciler.controller.plan.Action.*;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.ObservedState;
import t3.reconciler.model.Rollout;
import t3.reconciler.model.Version;
import t3.reconciler.model.fleet.EtcdHealth;
import t3.reconciler.model.fleet.FleetFacts;
import t3.reconciler.model.fleet.FleetFreeze;
import t3.reconciler.model.fleet.Verdict;
import t3.reconciler.model.fleet.Waves;

/**
 * The planner's fleet gates and steps (docs/fleet.md), pure like the rest of it: they read only {@code fleet:} and the
 * facts one etcd read put into observed state. Without {@code fleet:} every one of them is empty. A fleet that could
 * not be read never stops a rollback: only steps that start a rollout or move a user forward wait for a quorum.
 */
final class FleetGates {
    /**
     * After the lease was lost the slot is gone; the status publish at the end of the pass grants a fresh lease, so
     * the next pass can take a slot again. Soon, not at once: the pass has to end first.
     */
    static final Duration LEASE_LOST_RECHECK = Duration.ofSeconds(1);

    private FleetGates() {}

    /** The facts to decide on: empty without {@code fleet:}; with it, facts never observed read as unreachable (fail closed). */
    static Optional<FleetFacts> facts(DesiredState spec, ObservedState obs) {
        if (spec.fleet().isEmpty()) return Optional.empty();
        return Optional.of(obs.fleet().orElseGet(() -> FleetFacts.unknown(EtcdHealth.UNREACHABLE, "the fleet was not observed",
                spec.fleet().get().hostId().orElse("?"), spec.fleet().get().maxConcurrentHosts(), false)));
    }

    private static Optional<FleetFacts> readable(DesiredState spec, ObservedState obs) {
        return facts(spec, obs).filter(f -> f.etcd() == EtcdHealth.QUORUM);
    }

    /**
     * Right after {@code OpenBreaker} blocked a failed build: its verdict goes to the fleet before the rollback's own
     * steps, so no other host starts it meanwhile. Only with a quorum (one short request, and a failure to write it is
     * not a fault): a rollback never waits for etcd; without one, {@link #housekeeping} publishes it later.
     */
    static Optional<Decision> verdictDuringRollback(DesiredState spec, ObservedState obs, Version failed) {
        if (readable(spec, obs).isEmpty() || !obs.fleetUnpublished().containsKey(failed)) return Optional.empty();
        String reason = obs.fleetUnpublished().get(failed);
        return Optional.of(new Decision(new BlockForFleet(failed, reason), failed + " failed here (" + reason
                + "); publishing the verdict to the fleet before rolling back, so no other host starts it"));
    }

    /**
     * What keeps the fleet's records true, planned whenever no rollback work is left (and etcd has a quorum): a local
     * verdict not published yet, a slot held with no rollout open, a promotion the fleet does not know of.
     */
    static Optional<Decision> housekeeping(DesiredState spec, ObservedState obs) {
        Optional<FleetFacts> read = readable(spec, obs);
        if (read.isEmpty()) return Optional.empty();
        FleetFacts f = read.get();
        if (!obs.fleetUnpublished().isEmpty()) {
            Map.Entry<Version, String> v = obs.fleetUnpublished().entrySet().iterator().next();
            return Optional.of(new Decision(new BlockForFleet(v.getKey(), v.getValue()), v.getKey() + " is blocked here (" + v.getValue()
                    + ") and this host has not published the verdict yet; publishing it so no other host of group " + spec.fleet().get().group() + " tries it"));
        }
        if (obs.rollout().isPresent()) return Optional.empty();
        if (f.selfHoldsSlot()) {
            return Optional.of(new Decision(new ReleaseSlot(), "no rollout is open and this host holds a rollout slot; releasing it for the next host"));
        }
        Optional<Version> good = obs.lastGood().filter(v -> obs.installed().equals(Optional.of(v)));
        if (good.isPresent() && !f.promotions().getOrDefault(good.get().toString(), Map.of()).containsKey(f.self())) {
            return Optional.of(new Decision(new RecordPromotion(good.get()), good.get() + " is last-good here and the fleet has no promotion of it from "
                    + f.self() + "; recording it (the hosts after the canaries soak from it)"));
        }
        return Optional.empty();
    }

    /** The fleet's freeze: the local freeze's meaning for every host (an unread fleet is {@link #beforeStart}'s and {@link #beforeForwardStep}'s). */
    static Optional<Decision> frozen(DesiredState spec, ObservedState obs) {
        Optional<FleetFreeze> freeze = readable(spec, obs).flatMap(FleetFacts::freeze);
        if (freeze.isEmpty()) return Optional.empty();
        FleetFreeze z = freeze.get();
        return Optional.of(new Decision(Hold.until(Gate.FLEET_FROZEN), "the fleet (group " + spec.fleet().get().group() + ") is frozen by " + z.by()
                + " since " + z.at() + (z.reason().isBlank() ? "" : ": " + z.reason()) + "; run 't3-reconciler fleet unfreeze' to resume"));
    }

    /**
     * The target failed on another host: blocked here too. A rollout toward it that reached no user is abandoned; one
     * that did is failed, so the normal rollback puts every user back.
     */
    static Optional<Decision> blocked(DesiredState spec, ObservedState obs, Planner.Target t) {
        Optional<Verdict> verdict = readable(spec, obs).map(f -> f.verdicts().get(t.version().toString()));
        if (verdict.isEmpty()) return Optional.empty();
        Verdict v = verdict.get();
        String failed = "failed on " + v.host() + ": " + v.reason();
        Optional<Rollout> open = obs.rollout().filter(r -> r.target().equals(t.version()));
        if (open.isPresent()) {
            if (obs.installed().equals(Optional.of(t.version()))) {
                return Optional.of(new Decision(new AbortRollout(t.version(), "blocked by the fleet: " + failed),
                        t.why() + ", which the fleet blocked (" + failed + "); failing the rollout so it is rolled back"));
            }
            return Optional.of(new Decision(new AbandonRollout(t.version()), t.why() + ", which the fleet blocked (" + failed
                    + "); abandoning the rollout, which never reached a user"));
        }
        return Optional.of(new Decision(Hold.until(Gate.FLEET_BLOCKED), t.why() + ", which the fleet blocked (" + failed + " at " + v.at()
                + "); waiting for a newer build (or 't3-reconciler fleet unblock " + t.version() + "')"));
    }

    /** Before a rollout starts: a quorum, then the waves (canary hosts first, then the soak). */
    static Optional<Decision> beforeStart(DesiredState spec, ObservedState obs, Planner.Target t) {
        Optional<FleetFacts> facts = facts(spec, obs);
        if (facts.isEmpty()) return Optional.empty();
        FleetFacts f = facts.get();
        if (f.etcd() != EtcdHealth.QUORUM) return Optional.of(unavailable(f, t.why() + "; no rollout starts"));
        DesiredState.Fleet fleet = spec.fleet().get();
        Waves.Gate w = Waves.gate(f, fleet.canaryHosts(), fleet.soak(), t.version().toString(), obs.now());
        if (w instanceof Waves.AwaitingCanaries a) {
            return Optional.of(new Decision(Hold.until(Gate.FLEET_WAVES), t.why() + "; waiting for the canary host(s) " + String.join(", ", a.hosts())
                    + " to promote it first"));
        }
        if (w instanceof Waves.Soaking s) {
            return Optional.of(new Decision(Hold.recheck(Gate.FLEET_WAVES, Duration.between(obs.now(), s.until())), t.why()
                    + "; every canary host promoted it; soaking for " + fleet.soak() + " until " + s.until()));
        }
        return Optional.empty();
    }

    /**
     * Before each step that changes what a user runs (the link's switch, each canary restart): a quorum, a live lease,
     * and a slot held by this host, taken here if one is free.
     */
    static Optional<Decision> beforeForwardStep(DesiredState spec, ObservedState obs, Planner.Target t, String step) {
        Optional<FleetFacts> facts = facts(spec, obs);
        if (facts.isEmpty()) return Optional.empty();
        FleetFacts f = facts.get();
        if (f.etcd() != EtcdHealth.QUORUM) return Optional.of(unavailable(f, "holding before " + step + " of " + t.version()));
        if (f.leaseLost()) {
            return Optional.of(new Decision(Hold.recheck(Gate.FLEET_LEASE_LOST, LEASE_LOST_RECHECK), "this controller's etcd lease expired, so its slot is gone;"
                    + " stopping before " + step + " of " + t.version() + " until a slot is taken again under a fresh lease"));
        }
        if (f.selfHoldsSlot()) return Optional.empty();
        if (f.selfListedAsHolder()) {
            // Held under an earlier lease of this host (a controller restarted mid-rollout): the lock moves it to the
            // live lease without counting it twice, so it is taken over even when every slot is held.
            return Optional.of(new Decision(new TakeSlot(t.version()), "this host's slot is held under an earlier lease (a restart mid-rollout);"
                    + " taking it over before " + step + " of " + t.version()));
        }
        if (f.slotsFree() > 0) {
            return Optional.of(new Decision(new TakeSlot(t.version()), "taking a rollout slot (" + f.slotsFree() + " of " + f.maxConcurrentHosts()
                    + " free) before " + step + " of " + t.version()));
        }
        return Optional.of(new Decision(Hold.until(Gate.FLEET_SLOTS_FULL), "all " + f.maxConcurrentHosts() + " rollout slot(s) are held by "
                + String.join(", ", f.slotHolders().stream().map(h -> h.host()).toList()) + "; waiting before " + step + " of " + t.version()));
    }

    private static Decision unavailable(FleetFacts f, String what) {
        return new Decision(Hold.outage(Gate.FLEET_UNAVAILABLE), "etcd is " + f.etcd().name().toLowerCase().replace('_', '-') + " ("
                + f.etcdDetail() + "); " + what + " (a rollback would not wait)");
    }
}
