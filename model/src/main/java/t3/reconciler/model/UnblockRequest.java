package t3.reconciler.model;

import java.time.Instant;
import java.util.Objects;

/** The operator's {@code unblock VERSION}: the planner takes the version off the blocked list. Recorded in the controller's store until done. */
public record UnblockRequest(Version version, String by, String reason, Instant at) {
    public UnblockRequest {
        Objects.requireNonNull(version);
        Objects.requireNonNull(by);
        Objects.requireNonNull(reason);
        Objects.requireNonNull(at);
    }
}
