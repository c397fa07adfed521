package t3.reconciler.controller.loop;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Why the worker should reconcile now. Triggers coalesce: ten arriving while a pass runs cause one more pass, not ten.
 */
public final class Triggers {
    private final Set<String> pending = new LinkedHashSet<>();
    private boolean windowOverride;

    public synchronized void fire(String why) {
        pending.add(why);
        notifyAll();
    }

    /** SIGHUP with an override request: the next pass may start a bump outside the maintenance window. */
    public synchronized void fireWithWindowOverride(String why) {
        windowOverride = true;
        fire(why);
    }

    /** Waits until a trigger arrives (the timer is one of the sources); returns every reason pending, cleared. */
    public synchronized Fired await() throws InterruptedException {
        while (pending.isEmpty()) wait();
        Fired f = new Fired(Set.copyOf(pending), windowOverride);
        pending.clear();
        windowOverride = false;
        return f;
    }

    public record Fired(Set<String> reasons, boolean windowOverride) {}
}
