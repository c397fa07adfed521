package t3.reconciler.controller.actuator.systemd;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import org.freedesktop.dbus.DBusPath;
import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.connections.impl.DBusConnectionBuilder;
import org.freedesktop.dbus.errors.NoReply;
import org.freedesktop.dbus.errors.ServiceUnknown;
import org.freedesktop.dbus.errors.UnknownObject;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.exceptions.DBusExecutionException;
import org.freedesktop.dbus.exceptions.NotConnected;
import org.freedesktop.dbus.interfaces.Peer;
import org.freedesktop.dbus.interfaces.Properties;
import org.freedesktop.dbus.types.Variant;
import org.freedesktop.systemd1.NoSuchUnit;

import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.UnitStatus;
import t3.reconciler.controller.actuator.Units;

/**
 * {@link Units} over D-Bus with dbus-java. The connection is built lazily and rebuilt once per call when the
 * bus has dropped; faults of the bus itself are {@linkplain ActuatorException#isTransient transient}, answers
 * of systemd (no such unit, job failed, unit not active afterwards, job timed out) are verdicts.
 */
public final class DbusUnits implements Units {
    private static final Duration PING_BOUND = Duration.ofSeconds(2);
    /** A Ping left waiting on a dead bus ends with dbus-java's own call timeout; it never holds a step. */
    private static final ExecutorService PINGER = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "dbus-ping");
        t.setDaemon(true);
        return t;
    });
    private static final String UNIT = "org.freedesktop.systemd1.Unit";
    private static final String SERVICE = "org.freedesktop.systemd1.Service";
    private static final String MODE = "replace";

    /** How often every cached unit is read afresh, whatever the signals said. */
    public static final Duration DEFAULT_FULL_RESYNC = Duration.ofMinutes(5);

    private final String bus;
    private final int connectTimeoutMillis;
    private final Duration fullResync;
    private final AtomicLong busCalls = new AtomicLong();
    private Conn current; // guarded by this

    /**
     * One live connection with its manager proxy, the tracker of its job signals and the unit cache its signals keep
     * current; {@code fullResyncAt} is when its entries are next all read afresh (guarded by this DbusUnits).
     */
    private static final class Conn {
        final DBusConnection dbus;
        final SystemdManager manager;
        final JobTracker jobs;
        final UnitCache cache;
        Instant fullResyncAt;

        Conn(DBusConnection dbus, SystemdManager manager, JobTracker jobs, UnitCache cache, Instant fullResyncAt) {
            this.dbus = dbus;
            this.manager = manager;
            this.jobs = jobs;
            this.cache = cache;
            this.fullResyncAt = fullResyncAt;
        }

        DBusConnection dbus() { return dbus; }

        SystemdManager manager() { return manager; }

        JobTracker jobs() { return jobs; }
    }

    private record Issued(Conn conn, String jobPath) {}

    private enum Verb {
        START, STOP, RESTART;

        DBusPath issue(SystemdManager m, String unit) {
            return switch (this) {
                case START -> m.StartUnit(unit, MODE);
                case STOP -> m.StopUnit(unit, MODE);
                case RESTART -> m.RestartUnit(unit, MODE);
            };
        }
    }

    @FunctionalInterface
    private interface BusCall<T> {
        T apply(Conn conn) throws DBusException;
    }

    /** @param bus {@code system}, {@code session} or a D-Bus address such as {@code unix:path=/run/x/bus} */
    public DbusUnits(String bus) { this(bus, Duration.ofSeconds(2)); }

    /** @param connectTimeout how long to try reaching the bus; dbus-java's default retries for ~10 s */
    public DbusUnits(String bus, Duration connectTimeout) { this(bus, connectTimeout, DEFAULT_FULL_RESYNC); }

    /**
     * @param fullResync how often {@link #list} reads every unit afresh instead of trusting entries that no signal
     *                   touched (between two, each list is one {@code ListUnitsByPatterns} call checked against the cache)
     */
    public DbusUnits(String bus, Duration connectTimeout, Duration fullResync) {
        this.fullResync = fullResync;
        this.bus = Objects.requireNonNull(bus, "bus");
        if (bus.isBlank()) throw new IllegalArgumentException("bus must be system, session or an address");
        this.connectTimeoutMillis = (int) Math.max(1, connectTimeout.toMillis());
    }

    /**
     * One {@code ListUnitsByPatterns} call; each listed unit is served from the cache when no signal touched it since it
     * was read and the listing agrees with it (load, active and sub state), else read afresh (a missed signal is healed
     * here). On a full resync every unit is read afresh.
     */
    @Override
    public List<UnitStatus> list(String pattern) throws ActuatorException {
        return withReconnect("list " + pattern, c -> {
            boolean full = fullResyncDue(c);
            busCalls.incrementAndGet();
            List<UnitStatus> out = new ArrayList<>();
            for (ListedUnit u : c.manager().ListUnitsByPatterns(List.of(), List.of(pattern))) {
                String path = u.unitPath.getPath();
                Optional<UnitStatus> cached = full ? Optional.empty() : c.cache.current(path)
                        .filter(s -> s.name().equals(u.name) && s.activeState().equals(u.activeState) && s.subState().equals(u.subState) && !u.loadState.equals("not-found"));
                if (cached.isPresent()) {
                    out.add(cached.get());
                    continue;
                }
                try {
                    long generation = c.cache.generation(path);
                    UnitStatus s = describe(c, u.name, u.unitPath);
                    c.cache.put(path, s, generation);
                    if (!s.activeState().equals("missing")) out.add(s);
                } catch (UnknownObject gone) {
                    // unloaded between the listing and the property reads: no longer a loaded unit
                }
            }
            return out;
        });
    }

    /** The cache of the live connection, if any: for tests that play a missed signal. */
    synchronized Optional<UnitCache> cache() { return Optional.ofNullable(current).map(c -> c.cache); }

    /** D-Bus method calls made so far (ListUnits, GetUnit, LoadUnit, GetAll, jobs): what a pass costs the bus. */
    public long busCalls() { return busCalls.get(); }

    private synchronized boolean fullResyncDue(Conn c) {
        Instant now = Instant.now();
        if (now.isBefore(c.fullResyncAt)) return false;
        c.fullResyncAt = now.plus(fullResync);
        return true;
    }

    @Override
    public UnitStatus status(String unit) throws ActuatorException {
        return withReconnect("status of " + unit, c -> {
            DBusPath path;
            busCalls.incrementAndGet();
            try {
                // Always asked, even with the unit cached: a dead bus must surface here, not hide behind the cache.
                path = c.manager().GetUnit(unit);
                Optional<UnitStatus> cached = c.cache.current(path.getPath()).filter(s -> s.name().equals(unit));
                if (cached.isPresent()) return cached.get();
            } catch (NoSuchUnit notLoaded) {
                // Not in memory is not the same as unknown: loading tells an existing unit file from none.
                busCalls.incrementAndGet();
                path = c.manager().LoadUnit(unit);
            }
            try {
                long generation = c.cache.generation(path.getPath());
                UnitStatus s = describe(c, unit, path);
                c.cache.put(path.getPath(), s, generation);
                return s;
            } catch (UnknownObject gone) {
                return UnitStatus.missing(unit);
            }
        });
    }

    @Override
    public void restart(String unit, Duration timeout) throws ActuatorException { job(Verb.RESTART, unit, timeout, true); }

    @Override
    public void stop(String unit, Duration timeout) throws ActuatorException { job(Verb.STOP, unit, timeout, false); }

    @Override
    public void start(String unit, Duration timeout) throws ActuatorException { job(Verb.START, unit, timeout, true); }

    @Override
    public synchronized void close() {
        if (current != null) closeQuietly(current.dbus());
        current = null;
    }

    private void job(Verb verb, String unit, Duration timeout, boolean mustEndActive) throws ActuatorException {
        String what = verb.name().toLowerCase(Locale.ROOT) + " of " + unit;
        Instant deadline = Instant.now().plus(timeout);
        Issued issued = withReconnect(what, c -> {
            c.jobs().expect(); // before the call: the signal may beat the reply
            try {
                busCalls.incrementAndGet();
                return new Issued(c, verb.issue(c.manager(), unit).getPath());
            } catch (RuntimeException e) {
                c.jobs().release();
                throw e;
            }
        });
        Optional<String> result;
        try {
            result = issued.conn().jobs().await(issued.jobPath(), deadline, issued.conn().dbus()::isConnected);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ActuatorException(what + ": interrupted while waiting for the job", true, e);
        } finally {
            issued.conn().jobs().release();
            // Whatever the signals said: the unit's state after our own job is read from systemd.
            issued.conn().cache.invalidate(unit);
        }
        if (result.isEmpty()) {
            if (!issued.conn().dbus().isConnected()) {
                throw ActuatorException.transientFault(what + ": bus dropped while waiting for job " + issued.jobPath(), null);
            }
            // The job is left to systemd, whose own start/stop timeouts end it.
            throw ActuatorException.verdict(what + ": job " + issued.jobPath() + " unfinished after " + timeout + "; unit " + stateOf(unit));
        }
        if (!result.get().equals("done")) {
            throw ActuatorException.verdict(what + ": job result '" + result.get() + "'; unit " + stateOf(unit));
        }
        if (mustEndActive) {
            UnitStatus after = status(unit);
            if (!after.active()) {
                throw ActuatorException.verdict(what + ": job result 'done' but unit " + after.activeState() + "/" + after.subState());
            }
        }
    }

    /** For messages only: the state must not hide the verdict behind a second failure. */
    private String stateOf(String unit) {
        try {
            UnitStatus s = status(unit);
            return s.activeState() + "/" + s.subState();
        } catch (ActuatorException e) {
            return "state unknown (" + e.getMessage() + ")";
        }
    }

    /** Two calls (all Unit properties, all Service properties) where it took seven single reads. */
    private UnitStatus describe(Conn c, String name, DBusPath path) throws DBusException {
        Properties p = c.dbus().getRemoteObject(SystemdManager.BUS_NAME, path.getPath(), Properties.class);
        busCalls.incrementAndGet();
        Map<String, Variant<?>> unit = p.GetAll(UNIT);
        String load = (String) value(unit, "LoadState");
        if (load.equals("not-found")) return UnitStatus.missing(name);
        String active = (String) value(unit, "ActiveState");
        String sub = (String) value(unit, "SubState");
        if (!name.endsWith(".service")) return new UnitStatus(name, active, sub, 0, Optional.empty(), 0, Optional.empty());
        busCalls.incrementAndGet();
        Map<String, Variant<?>> service = p.GetAll(SERVICE);
        long mainPid = number(value(service, "MainPID"));
        long startedMicros = number(value(service, "ExecMainStartTimestamp"));
        int restarts = (int) number(value(service, "NRestarts"));
        String cgroup = (String) value(service, "ControlGroup");
        Optional<Instant> started = startedMicros == 0 ? Optional.empty() : Optional.of(Instant.EPOCH.plus(startedMicros, ChronoUnit.MICROS));
        return new UnitStatus(name, active, sub, mainPid, started, restarts, cgroup.isEmpty() ? Optional.empty() : Optional.of(cgroup));
    }

    private static long number(Object o) { return ((Number) o).longValue(); }

    private static Object value(Map<String, Variant<?>> all, String property) throws DBusException {
        Variant<?> v = all.get(property);
        if (v == null) throw new DBusException("systemd's unit has no property " + property);
        return v.getValue();
    }

    /** Runs {@code call}; if the bus failed under it, rebuilds the connection and runs it once more. */
    private <T> T withReconnect(String what, BusCall<T> call) throws ActuatorException {
        Conn c = connection(what);
        try {
            return call.apply(c);
        } catch (DBusException | DBusExecutionException e) {
            if (!isBusFault(e, c)) throw verdict(what, e);
            drop(c);
        }
        Conn again = connection(what);
        try {
            return call.apply(again);
        } catch (DBusException | DBusExecutionException e) {
            if (!isBusFault(e, again)) throw verdict(what, e);
            drop(again);
            throw ActuatorException.transientFault(what + ": bus failure: " + describe(e), e);
        }
    }

    /** Faults of the transport or of systemd's presence on the bus, as opposed to systemd's answers. */
    private static boolean isBusFault(Exception e, Conn c) {
        return !c.dbus().isConnected()
                || e instanceof DBusException
                || e instanceof NotConnected
                || e instanceof ServiceUnknown
                || e instanceof NoReply
                || e instanceof org.freedesktop.dbus.errors.Timeout
                || e.getCause() instanceof IOException
                || e.getClass() == DBusExecutionException.class && !answers(c);
    }

    /**
     * dbus-java turns a write that fails on a bus that just died into a plain error reply to our own call ("Message
     * Failed to Send: Broken pipe"), while the connection still says it is connected; an error systemd answers with no
     * class of ours looks the same. Whether the bus still answers a Ping tells them apart.
     */
    private static boolean answers(Conn c) {
        // Bounded well below dbus-java's 20 s call timeout: a dead bus must be noticed at once, a live one answers in ms.
        CompletableFuture<Boolean> ping = CompletableFuture.supplyAsync(() -> {
            try {
                c.dbus().getRemoteObject("org.freedesktop.DBus", "/org/freedesktop/DBus", Peer.class).Ping();
                return true;
            } catch (DBusException | RuntimeException e) {
                return false;
            }
        }, PINGER);
        try {
            return ping.get(PING_BOUND.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static ActuatorException verdict(String what, Exception e) {
        return new ActuatorException(what + ": " + describe(e), false, e);
    }

    private static String describe(Exception e) {
        return e.getClass().getName() + (e.getMessage() == null || e.getMessage().isBlank() ? "" : ": " + e.getMessage());
    }

    private synchronized Conn connection(String what) throws ActuatorException {
        if (current != null && current.dbus().isConnected()) return current;
        if (current != null) closeQuietly(current.dbus());
        current = null;
        DBusConnection dbus = null;
        try {
            dbus = builder().withShared(false).transportConfig().withTimeout(connectTimeoutMillis).back().build();
            SystemdManager manager = dbus.getRemoteObject(SystemdManager.BUS_NAME, SystemdManager.OBJECT_PATH, SystemdManager.class);
            JobTracker jobs = new JobTracker();
            dbus.addSigHandler(SystemdManager.JobRemoved.class, jobs);
            UnitCache cache = new UnitCache();
            dbus.addSigHandler(Properties.PropertiesChanged.class, cache::handle);
            dbus.addSigHandler(SystemdManager.UnitNew.class, cache::handle);
            dbus.addSigHandler(SystemdManager.UnitRemoved.class, cache::handle);
            manager.Subscribe(); // after the handlers: nothing is sent to us before, nothing is missed after
            current = new Conn(dbus, manager, jobs, cache, Instant.now().plus(fullResync));
            return current;
        } catch (DBusException | DBusExecutionException e) {
            if (dbus != null) closeQuietly(dbus);
            throw ActuatorException.transientFault(what + ": cannot reach systemd on bus '" + bus + "': " + describe(e), e);
        }
    }

    private synchronized void drop(Conn c) {
        closeQuietly(c.dbus());
        if (current == c) current = null;
    }

    private DBusConnectionBuilder builder() {
        return switch (bus) {
            case "system" -> DBusConnectionBuilder.forSystemBus();
            case "session" -> DBusConnectionBuilder.forSessionBus();
            default -> DBusConnectionBuilder.forAddress(bus);
        };
    }

    private static void closeQuietly(DBusConnection dbus) {
        try {
            dbus.close();
        } catch (IOException | RuntimeException ignored) {
            // already broken; nothing more to release
        }
    }
}
