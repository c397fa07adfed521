package t3.reconciler.model.fleet;

import java.time.Instant;

/** A version that failed on {@code host} (health check, canary, rollback): blocked on every host of the group. */
public record Verdict(String version, String host, String reason, Instant at) {}
