package t3.reconciler.model;

import java.time.Instant;
import java.util.Objects;

/**
 * The operator's {@code unfreeze} while the breaker is not closed: the planner turns it into the breaker's reset (the
 * CLI removes the freeze file itself, the operator's own file). Recorded in the controller's store until done.
 */
public record UnfreezeRequest(String by, String reason, Instant at) {
    public UnfreezeRequest {
        Objects.requireNonNull(by);
        Objects.requireNonNull(reason);
        Objects.requireNonNull(at);
    }
}
