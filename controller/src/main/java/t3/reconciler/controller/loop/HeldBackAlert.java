package t3.reconciler.controller.loop;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * alerts.heldBackAfter: the controller's own alert (log, webhook) when the channel has moved on and we have not
 * followed for that long. Once per episode (since + gate), so a gate that keeps holding alerts once, not every pass.
 */
public final class HeldBackAlert {
    private final Alerter alerter;
    private HeldBack.Episode alerted;

    public HeldBackAlert(Alerter alerter) { this.alerter = alerter; }

    public void check(Optional<HeldBack.Episode> held, Duration after, Instant now) {
        // The episode alerted on is over (we follow again, or another gate holds now): take its alert back.
        if (alerted != null && !held.equals(Optional.of(alerted))) {
            alerter.resolve("T3HeldBack", "info", Map.of("reason", alerted.reason()));
            alerted = null;
        }
        if (held.isEmpty()) return;
        HeldBack.Episode e = held.get();
        Duration behind = Duration.between(e.since(), now);
        if (behind.compareTo(after) <= 0 || e.equals(alerted)) return;
        alerted = e;
        alerter.fire("T3HeldBack", "info", "the channel has had a newer version since " + e.since() + " (" + behind.toHours()
                + " h) that is not installed; held by the " + e.reason() + " gate", Map.of("reason", e.reason()));
    }
}
