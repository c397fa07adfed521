package t3.reconciler.controller.loop;

import java.util.Optional;
import java.util.function.Supplier;
import t3.reconciler.controller.actuator.FleetPort;
import t3.reconciler.model.DesiredState;

/**
 * The fleet's watch as a trigger source (reason {@code fleet}): a slot freed, a verdict, the freeze, a promotion, etcd
 * lost or back wakes the loop, so a waiting host moves without polling. It follows the port in force: an edit of
 * {@code fleet:} reopens the port (the old watch closes with it), and the next pass end subscribes to the new one.
 */
final class FleetTriggerSource implements TriggerSource {
    static final String REASON = "fleet";

    private final Supplier<Optional<FleetPort>> port;
    private Triggers triggers;
    private FleetPort watched;

    FleetTriggerSource(Supplier<Optional<FleetPort>> port) { this.port = port; }

    @Override
    public void start(Triggers t) {
        this.triggers = t;
        follow();
    }

    @Override
    public void afterPass(DesiredState inForce) { follow(); }

    private synchronized void follow() {
        Optional<FleetPort> p = port.get();
        if (p.isEmpty() || p.get() == watched) return;
        watched = p.get();
        Triggers t = triggers;
        watched.changes().onChange(() -> t.fire(REASON));
    }

    /** The port (and its watch) is closed by its owner, the live actuators. */
    @Override
    public void close() {}
}
