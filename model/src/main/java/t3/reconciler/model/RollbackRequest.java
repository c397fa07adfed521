package t3.reconciler.model;

import java.time.Instant;
import java.util.Objects;

/**
 * The operator's {@code rollback}: put every unit on {@code target} (binary and databases), overriding freeze and
 * channel until done, then it is cleared. Recorded in the controller's store so a daemon and the CLI see the same one.
 *
 * @param force     restore busy users too instead of deferring them
 * @param by        who asked (for the event log)
 * @param blockFrom the version rolled back from, for the controller to block first (empty once blocked, or none)
 */
public record RollbackRequest(Version target, boolean force, String by, Instant at, java.util.Optional<Version> blockFrom) {
    public RollbackRequest {
        Objects.requireNonNull(target);
        Objects.requireNonNull(by);
        Objects.requireNonNull(at);
        Objects.requireNonNull(blockFrom);
    }

    /** Nothing to block. */
    public RollbackRequest(Version target, boolean force, String by, Instant at) { this(target, force, by, at, java.util.Optional.empty()); }

    public RollbackRequest blocked() { return new RollbackRequest(target, force, by, at, java.util.Optional.empty()); }
}
