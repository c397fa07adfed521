package t3.reconciler.controller.actuator;

import t3.reconciler.controller.actuator.fleet.ChangeSource;
import t3.reconciler.controller.actuator.fleet.SlotResult;
import t3.reconciler.model.Version;
import t3.reconciler.model.fleet.FleetFacts;
import t3.reconciler.model.fleet.HostStatus;

/**
 * What the loop uses of the fleet (docs/fleet.md), opened from {@code fleet:}: the real one is
 * {@link t3.reconciler.controller.actuator.fleet.Fleet} on etcd; tests run several in-memory ones on one shared store.
 * Every write throws an {@link ActuatorException} that is transient (etcd comes back); {@link #facts} never throws:
 * what it could not read it reports as {@code NO_QUORUM} or {@code UNREACHABLE}.
 */
public interface FleetPort extends AutoCloseable {
    /** This host's id in the group. */
    String self();

    /** The group at one revision; never throws. */
    FleetFacts facts();

    /** Takes a rollout slot under this controller's lease (granting a fresh lease after one was lost); recursive. */
    SlotResult lock() throws ActuatorException;

    /** Frees this host's slot if it holds it under its live lease. */
    SlotResult unlock() throws ActuatorException;

    /** Frees a slot this host held under an earlier lease (a restarted controller with no rollout in flight). */
    SlotResult releaseStale() throws ActuatorException;

    /** Publishes a verdict: {@code version} failed here. True when this was the first verdict for it (the first one stands). */
    boolean block(Version version, String reason) throws ActuatorException;

    /** This host promoted {@code version} now (the first time stands). */
    void promoted(Version version) throws ActuatorException;

    /** This host's status, under its lease (granting a fresh lease after one was lost). */
    void publish(HostStatus status) throws ActuatorException;

    /** Fires after each change of the group that may change a decision (not other hosts' status writes). */
    ChangeSource changes();

    /** Stops the watch and revokes the lease: the slot and the status key go at once, not after the TTL. */
    @Override
    void close();
}
