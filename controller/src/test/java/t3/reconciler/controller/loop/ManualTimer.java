package t3.reconciler.controller.loop;

import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/** The resync timer, fired by the test: every arming is recorded (the loop is idle once it arms), and nothing elapses by itself. */
final class ManualTimer implements ResyncTimer {
    record Armed(Duration after, String reason) {}

    final BlockingQueue<Armed> armed = new LinkedBlockingQueue<>();
    private volatile Triggers triggers;
    private volatile Armed last;

    @Override
    public void start(Triggers triggers) { this.triggers = triggers; }

    @Override
    public void arm(Duration wait, String reason) {
        last = new Armed(wait, reason);
        armed.add(last);
    }

    /** The wait last armed elapses. */
    void elapse() { triggers.fire(last.reason()); }

    @Override
    public void close() {}
}
