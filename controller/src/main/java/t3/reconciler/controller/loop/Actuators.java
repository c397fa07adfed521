package t3.reconciler.controller.loop;

import t3.reconciler.controller.actuator.Backups;
import t3.reconciler.controller.actuator.BusyProbe;
import t3.reconciler.controller.actuator.HealthCheck;
import t3.reconciler.controller.actuator.Packages;
import t3.reconciler.controller.actuator.Pairing;
import t3.reconciler.controller.actuator.Releases;
import t3.reconciler.controller.actuator.Units;

/** Every piece of I/O the loop may do, in one place so the wiring (real or test) is explicit. */
public record Actuators(Units units, BusyProbe busy, Packages packages, Releases releases, Backups backups, HealthCheck health, Pairing pairing) {}
