package t3.reconciler.controller.loop;

import java.util.Optional;
import t3.reconciler.controller.actuator.Backups;
import t3.reconciler.controller.actuator.BusyProbe;
import t3.reconciler.controller.actuator.FleetPort;
import t3.reconciler.controller.actuator.HealthCheck;
import t3.reconciler.controller.actuator.Packages;
import t3.reconciler.controller.actuator.Pairing;
import t3.reconciler.controller.actuator.Releases;
import t3.reconciler.controller.actuator.Units;

/**
 * Every piece of I/O the loop may do, in one place so the wiring (real or test) is explicit.
 *
 * @param fleet the fleet port; empty without {@code fleet:} (or when it could not be opened: the observer then reports
 *              the fleet unreachable, so the planner holds)
 */
public record Actuators(Units units, BusyProbe busy, Packages packages, Releases releases, Backups backups, HealthCheck health, Pairing pairing,
                        Optional<FleetPort> fleet) {
    /** A host acting alone. */
    public Actuators(Units units, BusyProbe busy, Packages packages, Releases releases, Backups backups, HealthCheck health, Pairing pairing) {
        this(units, busy, packages, releases, backups, health, pairing, Optional.empty());
    }

    public Actuators withFleet(Optional<FleetPort> f) { return new Actuators(units, busy, packages, releases, backups, health, pairing, f); }
}
