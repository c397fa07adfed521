package t3.reconciler.controller.actuator.systemd;

import java.util.List;

import org.freedesktop.dbus.DBusPath;
import org.freedesktop.dbus.annotations.DBusInterfaceName;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.interfaces.DBusInterface;
import org.freedesktop.dbus.messages.DBusSignal;
import org.freedesktop.dbus.types.UInt32;

/** The part of {@code org.freedesktop.systemd1.Manager} the reconciler uses; method names are the D-Bus ones. */
@DBusInterfaceName("org.freedesktop.systemd1.Manager")
public interface SystemdManager extends DBusInterface {
    String BUS_NAME = "org.freedesktop.systemd1";
    String OBJECT_PATH = "/org/freedesktop/systemd1";

    /** Without a subscription systemd emits no job signals to this client. */
    void Subscribe();

    DBusPath GetUnit(String name);

    DBusPath LoadUnit(String name);

    List<ListedUnit> ListUnitsByPatterns(List<String> states, List<String> patterns);

    DBusPath StartUnit(String name, String mode);

    DBusPath StopUnit(String name, String mode);

    DBusPath RestartUnit(String name, String mode);

    /** Sent when a job finishes; {@code result} is done, canceled, timeout, failed, dependency or skipped. */
    class JobRemoved extends DBusSignal {
        private final DBusPath job;
        private final String unit;
        private final String result;

        public JobRemoved(String path, UInt32 id, DBusPath job, String unit, String result) throws DBusException {
            super(path, id, job, unit, result);
            this.job = job;
            this.unit = unit;
            this.result = result;
        }

        public DBusPath job() { return job; }

        public String unit() { return unit; }

        public String result() { return result; }
    }

    /** Sent when a unit is loaded into memory. */
    class UnitNew extends DBusSignal {
        private final DBusPath unit;

        public UnitNew(String path, String id, DBusPath unit) throws DBusException {
            super(path, id, unit);
            this.unit = unit;
        }

        public DBusPath unit() { return unit; }
    }

    /** Sent when a unit is unloaded from memory. */
    class UnitRemoved extends DBusSignal {
        private final DBusPath unit;

        public UnitRemoved(String path, String id, DBusPath unit) throws DBusException {
            super(path, id, unit);
            this.unit = unit;
        }

        public DBusPath unit() { return unit; }
    }
}
