package t3.reconciler.controller.cli;

import t3.reconciler.controller.actuator.Backups;
import t3.reconciler.controller.actuator.HealthCheck;
import t3.reconciler.controller.actuator.Packages;
import t3.reconciler.controller.actuator.backup.SqliteBackups;
import t3.reconciler.controller.crash.CrashPoints;
import t3.reconciler.controller.actuator.health.HttpHealthCheck;
import t3.reconciler.controller.actuator.health.HttpPairing;
import t3.reconciler.controller.actuator.npm.NpmPackages;
import t3.reconciler.controller.actuator.npm.SymlinkReleases;
import t3.reconciler.controller.actuator.systemd.CgroupBusyProbe;
import t3.reconciler.controller.actuator.systemd.DbusUnits;
import t3.reconciler.controller.loop.Actuators;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.DesiredState;

/** The real actuators, built from the desired state: the one place that knows every implementation. */
final class Wiring implements AutoCloseable {
    final StateStore store;
    final Actuators io;

    private Wiring(StateStore store, Actuators io) {
        this.store = store;
        this.io = io;
    }

    static Wiring open(DesiredState spec) {
        return new Wiring(StateStore.open(spec.controller().stateDb()), actuators(spec));
    }

    /** The actuators for {@code spec}; {@code run} asks again whenever an edit changes what they are built from. */
    static Actuators actuators(DesiredState spec) {
        return new Actuators(
                new DbusUnits(spec.controller().bus()),
                new CgroupBusyProbe(),
                packages(spec),
                // The link points at the binary, which for @corp/t3 is bin/t3, not bin/@corp/t3.
                SymlinkReleases.from(spec),
                backups(spec),
                healthCheck(spec),
                new HttpPairing());
    }

    /** For commands that need only backups ({@code backups}, {@code dry-run}): no bus connection. */
    static Backups backups(DesiredState spec) { return new SqliteBackups(spec.backup().dir(), CrashPoints.fromEnvironment()); }

    static Packages packages(DesiredState spec) { return NpmPackages.from(spec.install()); }

    static HealthCheck healthCheck(DesiredState spec) { return new HttpHealthCheck(spec.install().user(), spec.install().npm()); }

    @Override
    public void close() {
        io.units().close();
        store.close();
    }
}
