package t3.reconciler.controller.fake;

import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.UnitStatus;
import t3.reconciler.controller.actuator.Units;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.Version;

/**
 * systemd in memory: each unit is active or not, has a main pid and a start time, and remembers which build the link
 * pointed at when it started (what node would have resolved), so a test can ask what each user really runs.
 */
public final class FakeUnits implements Units {
    private final FakeActuators fx;
    private final String template;
    private final FakeReleases releases;
    private final Clock clock;
    private final Map<String, Unit> units = new TreeMap<>();
    private final Set<String> failRestart = new HashSet<>();
    private final Set<Version> crashesOn = new HashSet<>();
    private long nextPid = 1000;
    private boolean busDown;
    private boolean closed;

    private static final class Unit {
        boolean active;
        long pid;
        Optional<Instant> started = Optional.empty();
        int restarts;
        Optional<Version> runs = Optional.empty();
    }

    FakeUnits(FakeActuators fx, String template, FakeReleases releases, Clock clock) {
        this.fx = fx;
        this.template = template;
        this.releases = releases;
        this.clock = clock;
    }

    public String unitOf(String user) { return template.replace(DesiredState.USER_PLACEHOLDER, user); }

    /** A user whose server is up, started now on whatever the link points at. */
    public synchronized FakeUnits running(String user) {
        start(units.computeIfAbsent(unitOf(user), n -> new Unit()));
        return this;
    }

    /** A user whose unit is loaded but stopped. */
    public synchronized FakeUnits stopped(String user) {
        units.computeIfAbsent(unitOf(user), n -> new Unit()).active = false;
        return this;
    }

    /**
     * Restarted outside the controller (systemd's Restart=, an operator, a reboot) onto whatever the link points at; on a
     * build it {@link #crashesOn}, the unit ends down with that start on record, as systemd keeps ExecMainStartTimestamp.
     */
    public synchronized FakeUnits restartedOutside(String user) {
        Unit u = units.computeIfAbsent(unitOf(user), n -> new Unit());
        u.restarts++;
        start(u);
        if (u.runs.filter(crashesOn::contains).isPresent()) u.active = false;
        return this;
    }

    /** Every call fails as an outage (the bus dropped) until {@link #busUp}. */
    public synchronized void busDown() { busDown = true; }

    public synchronized void busUp() { busDown = false; }

    /** This user's restart job fails (a verdict: the unit does not come up). */
    public synchronized void failRestart(String user) { failRestart.add(unitOf(user)); }

    /** A server started on {@code v} dies at once: restart and start fail while the link points at it. */
    public synchronized void crashesOn(Version v) { crashesOn.add(v); }

    /** The build the user's server started on, empty when it is down. */
    public synchronized Optional<Version> runs(String user) {
        Unit u = units.get(unitOf(user));
        return u == null || !u.active ? Optional.empty() : u.runs;
    }

    public synchronized int restarts(String user) {
        Unit u = units.get(unitOf(user));
        return u == null ? 0 : u.restarts;
    }

    public synchronized boolean closed() { return closed; }

    private void start(Unit u) {
        u.active = true;
        u.pid = nextPid++;
        u.started = Optional.of(clock.instant());
        u.runs = releases.activeVersion();
    }

    private UnitStatus statusOf(String name, Unit u) {
        if (u == null) return UnitStatus.missing(name);
        return new UnitStatus(name, u.active ? "active" : "inactive", u.active ? "running" : "dead", u.active ? u.pid : 0,
                u.started, u.restarts, Optional.of("/user.slice/" + name));
    }

    private void checkBus() throws ActuatorException {
        if (busDown) throw FakeActuators.outage("org.freedesktop.DBus.Error.Disconnected: the bus went away");
    }

    @Override
    public List<UnitStatus> list(String pattern) throws ActuatorException {
        fx.enter("units.list " + pattern);
        PathMatcher glob = FileSystems.getDefault().getPathMatcher("glob:" + pattern);
        synchronized (this) {
            checkBus();
            List<UnitStatus> out = new ArrayList<>();
            units.forEach((name, u) -> {
                if (glob.matches(Path.of(name))) out.add(statusOf(name, u));
            });
            return out;
        }
    }

    @Override
    public UnitStatus status(String unit) throws ActuatorException {
        fx.enter("units.status " + unit);
        synchronized (this) {
            checkBus();
            return statusOf(unit, units.get(unit));
        }
    }

    @Override
    public void restart(String unit, Duration timeout) throws ActuatorException {
        fx.enter("units.restart " + unit);
        synchronized (this) {
            checkBus();
            Unit u = loaded(unit);
            u.restarts++;
            if (failRestart.contains(unit)) {
                u.active = false;
                throw FakeActuators.verdict("job for " + unit + " failed: result 'failed' (told to fail)");
            }
            startOrFail(unit, u);
        }
    }

    @Override
    public void stop(String unit, Duration timeout) throws ActuatorException {
        fx.enter("units.stop " + unit);
        synchronized (this) {
            checkBus();
            loaded(unit).active = false;
        }
    }

    @Override
    public void start(String unit, Duration timeout) throws ActuatorException {
        fx.enter("units.start " + unit);
        synchronized (this) {
            checkBus();
            Unit u = loaded(unit);
            if (!u.active) startOrFail(unit, u);
        }
    }

    private void startOrFail(String unit, Unit u) throws ActuatorException {
        start(u);
        if (u.runs.filter(crashesOn::contains).isPresent()) {
            u.active = false;
            throw FakeActuators.verdict(unit + " exited right after start on " + u.runs.get() + " (told to crash)");
        }
    }

    private Unit loaded(String unit) throws ActuatorException {
        Unit u = units.get(unit);
        if (u == null) throw FakeActuators.verdict("Unit " + unit + " not found.");
        return u;
    }

    @Override
    public synchronized void close() { closed = true; }
}
