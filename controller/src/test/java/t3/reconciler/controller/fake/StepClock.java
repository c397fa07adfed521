package t3.reconciler.controller.fake;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A clock that moves only when read (by {@code tick}) or told to: every reading is later than the one before, so an
 * activation and a restart recorded one after the other are ordered as they happened, and no test depends on the wall.
 */
public final class StepClock extends Clock {
    private Instant now;
    private final Duration tick;

    public StepClock(Instant start, Duration tick) {
        this.now = start;
        this.tick = tick;
    }

    public StepClock(Instant start) { this(start, Duration.ofMillis(1)); }

    @Override
    public synchronized Instant instant() {
        Instant t = now;
        now = now.plus(tick);
        return t;
    }

    /** Without moving the clock, for assertions. */
    public synchronized Instant peek() { return now; }

    public synchronized void advance(Duration d) { now = now.plus(d); }

    @Override
    public ZoneId getZone() { return ZoneOffset.UTC; }

    @Override
    public Clock withZone(ZoneId zone) { throw new UnsupportedOperationException("a test clock lives in UTC"); }
}
