package t3.reconciler.model.fleet;

import java.time.Instant;

/** The group-wide freeze: the local freeze's meaning (no bump starts) for every host. */
public record FleetFreeze(String by, String reason, Instant at) {}
