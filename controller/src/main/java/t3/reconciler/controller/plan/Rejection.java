package t3.reconciler.controller.plan;

import t3.reconciler.model.Rollout;

/**
 * A step ran and its verdict went against it. The executor says which verdict; what it means for the rollout is
 * decided here ({@link #consequence}), so the executor never chooses between failing a bump and a failed rollback.
 */
public enum Rejection {
    /** npm failed, or the installed binary reports another version. */
    INSTALL,
    /** The build was judged and failed: health check, a canary's restart or pairing, a user restarted but never verified. */
    BUILD_CHECK,
    /** A restored user's server does not pair on the version it was restored to. */
    RESTORED_USER_DOES_NOT_PAIR,
    /** A step of a rollback was refused for good: the link cannot move back, a backup fails its checks. */
    ROLLBACK_STEP;

    /** What the rollout becomes. */
    public enum Consequence {
        /** The bump failed: recorded on the rollout; the next plan opens the breaker and rolls back. */
        FAIL_ROLLOUT,
        /** The rollback itself could not finish: the loud state, an operator repairs, then 'unfreeze' retries it. */
        ROLLBACK_FAILED
    }

    public Consequence consequence(Rollout r) {
        return switch (this) {
            // Reinstalling the rollback target failed: the louder state, the failed version stays blocked.
            case INSTALL -> r.failed() ? Consequence.ROLLBACK_FAILED : Consequence.FAIL_ROLLOUT;
            case BUILD_CHECK -> Consequence.FAIL_ROLLOUT;
            // A deliberate downgrade is a rollout like a bump: its failure is rolled back. A rollback's is not.
            case RESTORED_USER_DOES_NOT_PAIR -> r.from().filter(r.target()::isOlderThan).isPresent() ? Consequence.FAIL_ROLLOUT : Consequence.ROLLBACK_FAILED;
            case ROLLBACK_STEP -> Consequence.ROLLBACK_FAILED;
        };
    }
}
