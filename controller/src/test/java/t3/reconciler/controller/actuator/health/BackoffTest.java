package t3.reconciler.controller.actuator.health;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Issue 15/18: polls start at 20 ms and grow to the old fixed step; each probe's request has its own, growing timeout. */
class BackoffTest {
    static final Duration LOTS = Duration.ofMinutes(1);

    @Test
    void pausesDoubleFromTwentyMillisUpToTheCap() {
        Backoff b = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(5));
        List<Long> ms = new ArrayList<>();
        for (int i = 0; i < 8; i++) ms.add(b.nextPause(LOTS).toMillis());
        assertEquals(List.of(20L, 40L, 80L, 160L, 320L, 640L, 1000L, 1000L), ms);
    }

    @Test
    void aPauseNeverRunsPastTheDeadline() {
        Backoff b = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(5));
        assertEquals(Duration.ofMillis(7), b.nextPause(Duration.ofMillis(7)));
        assertEquals(Duration.ZERO, b.nextPause(Duration.ofMillis(-3)));
    }

    @Test
    void aCapBelowTheFirstPauseIsTheStep() {
        Backoff b = new Backoff(Duration.ofMillis(5), Duration.ofSeconds(5));
        assertEquals(Duration.ofMillis(5), b.nextPause(LOTS));
        assertEquals(Duration.ofMillis(5), b.nextPause(LOTS));
    }

    @Test
    void requestTimeoutsStartShortAndGrowToTheOperatorsRequestTimeout() {
        Backoff b = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(3));
        List<Long> ms = new ArrayList<>();
        for (int i = 0; i < 5; i++) ms.add(b.nextRequestTimeout(LOTS).toMillis());
        assertEquals(List.of(500L, 1000L, 2000L, 3000L, 3000L), ms);
        assertEquals(Duration.ofMillis(250), b.nextRequestTimeout(Duration.ofMillis(250)), "never past the deadline");
    }

    @Test
    void aRequestTimeoutBelowTheFirstIsUsedAsIs() {
        assertEquals(Duration.ofMillis(200), new Backoff(Duration.ofSeconds(1), Duration.ofMillis(200)).nextRequestTimeout(LOTS));
    }
}
