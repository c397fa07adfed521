package t3.reconciler.model;

import java.time.Instant;
import java.util.Optional;

/**
 * The circuit breaker that stops bumps after a failed one. {@code OPEN} self-freezes; {@code ROLLBACK_FAILED}
 * is the louder state where the controller could not put the last-good version back.
 *
 * @param failures consecutive failed bumps; the backoff policy doubles its wait with each
 */
public record BreakerState(Status status, Optional<Version> version, Optional<String> reason, Optional<Instant> openedAt, int failures) {
    public enum Status { CLOSED, OPEN, ROLLBACK_FAILED }

    public static BreakerState closed() {
        return new BreakerState(Status.CLOSED, Optional.empty(), Optional.empty(), Optional.empty(), 0);
    }

    public boolean isClosed() { return status == Status.CLOSED; }
}
