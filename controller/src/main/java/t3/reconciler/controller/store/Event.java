package t3.reconciler.controller.store;

import java.time.Instant;

/** One line of the append-only event log: what was decided or done, to what, how it ended, and why. */
public record Event(long id, Instant at, String action, String target, String outcome, String reason) {}
