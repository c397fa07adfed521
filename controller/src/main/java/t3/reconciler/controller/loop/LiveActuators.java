package t3.reconciler.controller.loop;

import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Function;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.FleetPort;
import t3.reconciler.controller.log.Log;
import t3.reconciler.model.DesiredState;

/**
 * The actuators for the desired state in force: rebuilt (the old ones closed) when an edit changes a key they are
 * built from, so an edit of the registry, the versions directory or the backup directory acts at the next step, not
 * at the next restart. The fleet port is opened from {@code fleet:} and reopened (the old one closed, its lease
 * revoked) only when that section changes; without it there is none. Called only between steps, by the one worker
 * thread (and once by the daemon before its first pass).
 */
public final class LiveActuators implements AutoCloseable {
    /** Everything {@link Actuators} are built from; an edit of anything else leaves them as they are. */
    public record Settings(String packageName, DesiredState.Install install, Path backupDir, String bus) {
        public static Settings of(DesiredState s) { return new Settings(s.packageName(), s.install(), s.backup().dir(), s.controller().bus()); }
    }

    /** Opens the port for a {@code fleet:} section; throws when it cannot (no host id, unreadable TLS files). */
    public interface FleetOpener {
        FleetPort open(DesiredState.Fleet fleet) throws ActuatorException;
    }

    private final Function<DesiredState, Actuators> build;
    private final FleetOpener openFleet;
    private final Log log;
    private Settings settings;
    private Actuators base;
    private Optional<DesiredState.Fleet> fleetSpec;
    private Optional<FleetPort> fleet = Optional.empty();
    private Actuators current;

    public LiveActuators(Function<DesiredState, Actuators> build, Log log) {
        this(build, f -> {
            throw ActuatorException.verdict("this controller was built without a fleet");
        }, log);
    }

    public LiveActuators(Function<DesiredState, Actuators> build, FleetOpener openFleet, Log log) {
        this.build = build;
        this.openFleet = openFleet;
        this.log = log;
    }

    public synchronized Actuators forSpec(DesiredState s) {
        Settings wanted = Settings.of(s);
        boolean changed = false;
        if (!wanted.equals(settings)) {
            Actuators next = build.apply(s);
            if (base != null) {
                base.units().close();
                log.info("actuators", Log.kv("outcome", "rebuilt", "reason", "the desired state changed what they are built from", "from", settings, "to", wanted));
            }
            base = next;
            settings = wanted;
            changed = true;
        }
        if (fleetSpec == null || !fleetSpec.equals(s.fleet())) {
            reopenFleet(s.fleet());
            changed = true;
        }
        if (changed) current = base.withFleet(fleet);
        return current;
    }

    /** The fleet port in force, if any (the daemon's watch follows it). */
    public synchronized Optional<FleetPort> fleet() { return fleet; }

    private void reopenFleet(Optional<DesiredState.Fleet> wanted) {
        boolean had = fleetSpec != null && fleetSpec.isPresent();
        fleet.ifPresent(FleetPort::close);
        fleet = Optional.empty();
        fleetSpec = wanted;
        if (wanted.isEmpty()) {
            if (had) log.info("fleet-open", Log.kv("outcome", "closed", "reason", "fleet: was removed; this host acts alone"));
            return;
        }
        DesiredState.Fleet f = wanted.get();
        try {
            fleet = Optional.of(openFleet.open(f));
            log.info("fleet-open", Log.kv("outcome", "opened", "host", fleet.get().self(), "group", f.group(), "endpoints", f.endpoints(),
                    "reason", had ? "the fleet: section changed" : "fleet: is set"));
        } catch (ActuatorException e) {
            // Fail closed: with no port the observer has no facts, which the planner reads as an unreachable etcd.
            log.error("fleet-open", Log.kv("outcome", "failed", "group", f.group(), "reason", "no rollout starts until this is fixed and the fleet: section edited (or the controller restarted): " + e.getMessage()));
        }
    }

    @Override
    public synchronized void close() {
        if (base != null) base.units().close();
        fleet.ifPresent(FleetPort::close);
        fleet = Optional.empty();
    }
}
