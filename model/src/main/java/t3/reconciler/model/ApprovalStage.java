package t3.reconciler.model;

/** Where a bump waits for the operator's {@code promote}; an approval is recorded per rollout and stage. */
public enum ApprovalStage {
    /** {@code canary.approval: manual}: the health check passed, no user runs the new version yet. */
    HEALTH_CHECKED("health-checked"),
    /** {@code canary.pauseAfter: N}: N users are verified on the new version, the others wait. */
    USERS_VERIFIED("users-verified");

    private final String label;

    ApprovalStage(String label) { this.label = label; }

    /** As the store records it; never changes. */
    public String label() { return label; }

    public static ApprovalStage ofLabel(String s) {
        for (ApprovalStage k : values()) if (k.label.equals(s)) return k;
        throw new IllegalArgumentException("unknown approval stage " + s);
    }
}
