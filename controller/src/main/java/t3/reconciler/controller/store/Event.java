package t3.reconciler.controller.store;

import java.time.Instant;

/**
 * One line of the append-only event log: what was decided or done, to what, how it ended, and why. For a step,
 * {@code reason} is the planner's sentence followed by {@code => } and the step's result, as people read it, and
 * {@code detail} is that result alone (null for events written before schema 3 and for decisions).
 */
public record Event(long id, Instant at, String action, String target, String outcome, String reason, String detail) {
    public Event(long id, Instant at, String action, String target, String outcome, String reason) {
        this(id, at, action, target, outcome, reason, null);
    }
}
