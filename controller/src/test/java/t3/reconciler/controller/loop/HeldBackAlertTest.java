package t3.reconciler.controller.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import t3.reconciler.controller.fake.RecordingAlerter;

/** T3HeldBack is fired once per episode and resolved when the episode ends (we follow again, or another gate holds). */
class HeldBackAlertTest {
    static final Instant T0 = Instant.parse("2026-06-01T00:00:00Z");
    static final Duration AFTER = Duration.ofDays(3);

    @Test
    void firedOncePerEpisodeAndResolvedWhenItEnds() {
        RecordingAlerter alerts = new RecordingAlerter();
        HeldBackAlert a = new HeldBackAlert(alerts);
        var breaker = new HeldBack.Episode(T0, "breaker");
        a.check(Optional.of(breaker), AFTER, T0.plus(Duration.ofDays(1)));
        assertEquals(List.of(), alerts.names());
        a.check(Optional.of(breaker), AFTER, T0.plus(Duration.ofDays(4)));
        a.check(Optional.of(breaker), AFTER, T0.plus(Duration.ofDays(5)));
        assertEquals(List.of("T3HeldBack"), alerts.names());
        assertEquals(List.of(), alerts.resolved());
        // Another gate holds now: the breaker's alert ends, the window's is its own.
        a.check(Optional.of(new HeldBack.Episode(T0, "window")), AFTER, T0.plus(Duration.ofDays(6)));
        assertEquals(List.of("T3HeldBack {reason=breaker}"), alerts.resolved());
        a.check(Optional.empty(), AFTER, T0.plus(Duration.ofDays(7)));
        assertEquals(List.of("T3HeldBack {reason=breaker}", "T3HeldBack {reason=window}"), alerts.resolved());
        a.check(Optional.empty(), AFTER, T0.plus(Duration.ofDays(8)));
        assertEquals(2, alerts.resolved().size(), "resolved once");
    }
}
