package t3.reconciler.controller.actuator.systemd;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import org.freedesktop.dbus.interfaces.Properties;
import org.freedesktop.dbus.messages.DBusSignal;

import t3.reconciler.controller.actuator.UnitStatus;

/**
 * Unit statuses of one bus connection kept current by systemd's own signals, like an informer: every
 * {@code PropertiesChanged} on a unit object, {@code UnitNew} and {@code UnitRemoved} bumps that unit's generation,
 * and an entry is served only while its generation is the one it was read under. A signal that arrives while a unit
 * is being read leaves the entry stale, never wrong. Signals tell us <em>that</em> a unit changed, not what it is now:
 * the new values are always read from systemd. A new connection starts with a new, empty cache (signals sent while no
 * connection was up are lost), and {@link DbusUnits} checks every entry against one {@code ListUnitsByPatterns} per
 * list and re-reads everything on each full resync, which heals a missed signal.
 */
final class UnitCache {
    static final String UNIT_PREFIX = "/org/freedesktop/systemd1/unit/";

    private record Entry(UnitStatus status, long generation) {}

    private final Map<String, Entry> byPath = new HashMap<>();
    private final Map<String, String> pathOfName = new HashMap<>();
    private final Map<String, Long> generations = new HashMap<>();
    private long signals;

    /** For every signal the cache listens to (registered per signal class by {@link DbusUnits}). */
    void handle(DBusSignal s) {
        String path = null;
        if (s instanceof Properties.PropertiesChanged) path = s.getPath();
        else if (s instanceof SystemdManager.UnitNew n) path = n.unit().getPath();
        else if (s instanceof SystemdManager.UnitRemoved r) path = r.unit().getPath();
        if (path != null && path.startsWith(UNIT_PREFIX)) changed(path);
    }

    /**
     * Only units we have read are tracked: on the system bus every transient unit of the machine signals, and those
     * paths must not pile up in a daemon that runs for months.
     */
    synchronized void changed(String path) {
        if (generations.computeIfPresent(path, (p, g) -> g + 1) == null) return;
        signals++;
        notifyAll();
    }

    /** For tests: waits until more than {@code seen} signals have arrived; false if {@code millis} passed first. */
    synchronized boolean awaitSignalsAfter(long seen, long millis) throws InterruptedException {
        long end = System.nanoTime() + millis * 1_000_000;
        while (signals <= seen) {
            long left = (end - System.nanoTime()) / 1_000_000;
            if (left <= 0) return false;
            wait(left);
        }
        return true;
    }

    /** The generation to read a unit under: pass it to {@link #put} with what was read. */
    synchronized long generation(String path) { return generations.computeIfAbsent(path, p -> 0L); }

    /** Remembers {@code status} read under {@code generation}; a unit systemd does not know is not remembered. */
    synchronized void put(String path, UnitStatus status, long generation) {
        if (status.activeState().equals("missing")) {
            byPath.remove(path);
            return;
        }
        byPath.put(path, new Entry(status, generation));
        pathOfName.put(status.name(), path);
    }

    /** The status, if read since its last signal. */
    synchronized Optional<UnitStatus> current(String path) {
        Entry e = byPath.get(path);
        return e != null && e.generation() == generations.getOrDefault(path, 0L) ? Optional.of(e.status()) : Optional.empty();
    }

    /** Where {@code name} was last read from. */
    synchronized Optional<String> pathOf(String name) { return Optional.ofNullable(pathOfName.get(name)); }

    /** Forces the next read of {@code name} to ask systemd (after a job of ours, whatever the signals said). */
    synchronized void invalidate(String name) {
        String path = pathOfName.get(name);
        if (path != null) changed(path);
    }

    /** Signals seen so far about units we have read, for tests and the bench. */
    synchronized long signals() { return signals; }
}
