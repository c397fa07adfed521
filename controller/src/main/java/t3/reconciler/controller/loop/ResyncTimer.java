package t3.reconciler.controller.loop;

import java.time.Duration;

/**
 * The timer source: armed after every pass with the wait the {@link Requeue} chose (the resync period, a hold's
 * recheck, or a backoff), fires its reason once when it elapses. Arming again replaces the previous wait.
 */
public interface ResyncTimer extends TriggerSource {
    void arm(Duration wait, String reason);
}
