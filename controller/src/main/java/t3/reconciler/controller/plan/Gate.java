package t3.reconciler.controller.plan;

/**
 * What a {@link Action.Hold} waits on. Its {@link #label()} is what logs, events ({@code hold:<label>}), the state store
 * and the {@code reason} label of {@code t3r_held_back_since_seconds} show, so the names never change.
 */
public enum Gate {
    /** Frozen: {@code freeze: true} in the desired-state file, or the operator freeze file. */
    FREEZE("freeze", false),
    /** The breaker is open (or a rollback could not finish): a failed bump is being contained. */
    BREAKER("breaker", false),
    /** Outside the maintenance window: opens by itself. */
    WINDOW("window", true),
    /** An agent is at work on a user's server: rechecked, never interrupted. */
    BUSY("busy", true),
    /** The registry could not resolve the channel's tag (an outage). */
    RESOLVE("resolve", true),
    /** The tag points at a build the channel does not take. */
    CHANNEL("channel", false),
    /** Refusing to go back to an older version (no pin, or no backup taken on it). */
    DOWNGRADE("downgrade", false),
    /** The target failed before and is blocked. */
    BLOCKED("blocked", false),
    /** A pre-bump backup cannot tell which version a database belongs to. */
    BACKUP("backup", false),
    /** {@code canary.approval: manual} or {@code canary.pauseAfter}: waiting for the operator's {@code promote} (or {@code abort}). */
    AWAITING_APPROVAL("awaiting-approval", false),
    /**
     * {@code fleet:} is set and etcd cannot be read with a quorum (unreachable, or no leader): no rollout starts and no
     * step moves a user forward; an outage, retried with backoff. A rollback never waits for it.
     */
    FLEET_UNAVAILABLE("fleet-unavailable", true),
    /** The fleet's freeze key is set ({@code fleet freeze}): the local freeze's meaning, for every host of the group. */
    FLEET_FROZEN("fleet-frozen", false),
    /** The target failed on another host of the group: blocked here too until {@code fleet unblock}. */
    FLEET_BLOCKED("fleet-blocked", false),
    /** Waves: this host waits for the canary hosts to promote the target, then for the soak to end. */
    FLEET_WAVES("fleet-waves", true),
    /** Every rollout slot of the group is held by other hosts: waits for one to be released (the watch wakes it). */
    FLEET_SLOTS_FULL("fleet-slots-full", true),
    /** This controller's etcd lease expired: its slot is gone; stop at the step boundary and take a slot again. */
    FLEET_LEASE_LOST("fleet-lease-lost", true);

    private final String label;
    private final boolean clearsByItself;

    Gate(String label, boolean clearsByItself) {
        this.label = label;
        this.clearsByItself = clearsByItself;
    }

    public String label() { return label; }

    /** Time (or the outage ending) lifts it, not an operator: {@code plan} reports such a wait as fine, not as a refusal. */
    public boolean clearsByItself() { return clearsByItself; }

    /** {@code null} and unknown labels (a row written by a newer release) are empty. */
    public static java.util.Optional<Gate> ofLabel(String label) {
        for (Gate g : values()) if (g.label.equals(label)) return java.util.Optional.of(g);
        return java.util.Optional.empty();
    }
}
