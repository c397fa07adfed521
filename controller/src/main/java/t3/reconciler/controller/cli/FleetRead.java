package t3.reconciler.controller.cli;

import java.io.OutputStream;
import java.io.PrintStream;
import java.time.Clock;
import java.util.Optional;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.fleet.Fleet;
import t3.reconciler.controller.log.Log;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.ObservedState;
import t3.reconciler.model.fleet.EtcdHealth;
import t3.reconciler.model.fleet.FleetFacts;

/**
 * The fleet as one read shows it now, for the CLI's {@code status} and {@code plan}: from this process, not through
 * the daemon's port. No lease is granted for a read, so whether this host holds a slot is read from the holders (the
 * daemon's lease is not this process's).
 */
final class FleetRead {
    private FleetRead() {}

    static ObservedState into(DesiredState s, ObservedState obs) {
        if (s.fleet().isEmpty()) return obs;
        DesiredState.Fleet spec = s.fleet().get();
        Log quiet = new Log(new PrintStream(OutputStream.nullOutputStream()), Log.Format.JSON, Clock.systemUTC());
        FleetFacts f;
        try (Fleet fleet = Fleet.open(spec, Clock.systemUTC(), quiet)) {
            f = fleet.facts();
        } catch (ActuatorException e) {
            f = FleetFacts.unknown(EtcdHealth.UNREACHABLE, "cannot open the fleet: " + e.getMessage(), spec.hostId().orElse("?"), spec.maxConcurrentHosts(), false);
        }
        return obs.withFleet(Optional.of(f.withSelfHoldsSlot(f.selfListedAsHolder())), obs.fleetUnpublished());
    }
}
