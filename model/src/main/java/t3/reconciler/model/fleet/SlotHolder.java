package t3.reconciler.model.fleet;

import java.time.Instant;

/** A host inside a rollout: it took a slot at {@code since} and has not released it. {@code lease} 0 = held with no lease (not written by us). */
public record SlotHolder(String host, Instant since, long lease) {}
