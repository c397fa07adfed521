package t3.reconciler.controller.loop;

import java.io.IOException;

/**
 * Something that can wake the daemon: the resync timer, a file watch, a signal, the fleet's watch. Each source only
 * fires reasons into {@link Triggers}, which coalesces them; none runs a pass itself.
 */
public interface TriggerSource extends AutoCloseable {
    /** Starts firing into {@code triggers}; called once, with the daemon's lock held. */
    void start(Triggers triggers) throws IOException;

    /** After each pass: the pass may have applied an edit that moves what this source looks at. */
    default void afterPass(t3.reconciler.model.DesiredState inForce) {}

    @Override
    void close();
}
