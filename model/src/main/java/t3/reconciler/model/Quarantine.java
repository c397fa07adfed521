package t3.reconciler.model;

import java.time.Instant;

/**
 * A user the controller stopped touching because their files were refused (their database is a link, a FIFO, or
 * not theirs to reach): no backup, restart or restore of theirs is planned, while everyone else goes on. Lifted by
 * the next backup of theirs that succeeds (the daily one, or an operator's {@code backup USER}).
 *
 * @param since when the refusal was last seen; the daily backup retries at most once per day after it
 */
public record Quarantine(String user, String reason, Instant since) {}
