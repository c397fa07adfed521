package t3.reconciler.controller.actuator.health;

import java.time.Duration;

/**
 * Pauses between polls of a server that is coming up, and the timeout of each poll's request. The stand-in answers
 * within milliseconds and the real t3 takes seconds: pauses start at {@link #FIRST_PAUSE} and double up to a cap, so
 * the fast one is seen at once and the slow one is not hammered. A request sent while the real server starts may
 * never be answered: each poll's request gets a timeout of its own, starting short and doubling up to the operator's
 * requestTimeout, so one lost request costs little and a slow but live server still gets the full timeout in the end.
 */
final class Backoff {
    static final Duration FIRST_PAUSE = Duration.ofMillis(20);
    static final Duration FIRST_REQUEST_TIMEOUT = Duration.ofMillis(500);

    private final Duration pauseCap;
    private final Duration requestCap;
    private Duration pause = FIRST_PAUSE;
    private Duration request = FIRST_REQUEST_TIMEOUT;

    /**
     * @param pauseCap   the longest pause between polls (a fixed interval that used to be the step)
     * @param requestCap the longest timeout of one poll's request (requestTimeout)
     */
    Backoff(Duration pauseCap, Duration requestCap) {
        this.pauseCap = pauseCap;
        this.requestCap = requestCap;
        if (request.compareTo(requestCap) > 0) request = requestCap;
        if (pause.compareTo(pauseCap) > 0) pause = pauseCap;
    }

    /** The next pause, never past {@code left} (what remains before the deadline). */
    Duration nextPause(Duration left) {
        Duration d = min(pause, left);
        pause = min(pause.multipliedBy(2), pauseCap);
        return d.isNegative() ? Duration.ZERO : d;
    }

    /** The next request's timeout, never past {@code left}. */
    Duration nextRequestTimeout(Duration left) {
        Duration d = min(request, left);
        request = min(request.multipliedBy(2), requestCap);
        return d;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
