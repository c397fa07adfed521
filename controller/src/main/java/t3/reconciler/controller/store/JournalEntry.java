package t3.reconciler.controller.store;

import java.time.Instant;

/**
 * A destructive step in flight, written before it starts and cleared after it ends, so a restart after a crash
 * knows what to finish or undo. {@code detail} is the step's own small JSON document.
 */
public record JournalEntry(JournalKind kind, String target, String detail, Instant startedAt) {}
