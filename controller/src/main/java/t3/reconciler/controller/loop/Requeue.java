package t3.reconciler.controller.loop;

import io.github.resilience4j.core.IntervalFunction;
import java.time.Duration;

/**
 * When to look again without a trigger, after a pass: a transient fault backs off exponentially with jitter
 * (resilience4j), never a hot loop; anything else resets the backoff and waits for the resync period, or for a hold's
 * recheck when that comes sooner.
 */
public final class Requeue {
    /** 5 s, doubling, ±50 % jitter, at most 30 min. */
    public static IntervalFunction defaultBackoff() {
        return IntervalFunction.ofExponentialRandomBackoff(Duration.ofSeconds(5), 2.0, 0.5, Duration.ofMinutes(30));
    }

    /** @param reason what the timer's pass is triggered by: {@code resync} or {@code backoff} */
    public record Wait(Duration after, String reason, int attempt) {
        public boolean backingOff() { return attempt > 0; }
    }

    private final IntervalFunction backoff;
    private int failures;

    public Requeue(IntervalFunction backoff) { this.backoff = backoff; }

    public Wait after(Reconciler.Result r, Duration resync) {
        if (r.transientFault()) {
            failures++;
            return new Wait(Duration.ofMillis(backoff.apply(failures)), "backoff", failures);
        }
        failures = 0;
        return new Wait(r.requeue().filter(d -> d.compareTo(resync) < 0).orElse(resync), "resync", 0);
    }
}
