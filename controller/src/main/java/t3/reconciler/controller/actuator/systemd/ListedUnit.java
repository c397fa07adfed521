package t3.reconciler.controller.actuator.systemd;

import org.freedesktop.dbus.DBusPath;
import org.freedesktop.dbus.Struct;
import org.freedesktop.dbus.annotations.Position;
import org.freedesktop.dbus.types.UInt32;

/** One entry of {@code ListUnitsByPatterns}, signature {@code (ssssssouso)}; dbus-java needs a Struct, not a record. */
public final class ListedUnit extends Struct {
    @Position(0) public final String name;
    @Position(1) public final String description;
    @Position(2) public final String loadState;
    @Position(3) public final String activeState;
    @Position(4) public final String subState;
    @Position(5) public final String following;
    @Position(6) public final DBusPath unitPath;
    @Position(7) public final UInt32 jobId;
    @Position(8) public final String jobType;
    @Position(9) public final DBusPath jobPath;

    public ListedUnit(String name, String description, String loadState, String activeState, String subState,
                      String following, DBusPath unitPath, UInt32 jobId, String jobType, DBusPath jobPath) {
        this.name = name;
        this.description = description;
        this.loadState = loadState;
        this.activeState = activeState;
        this.subState = subState;
        this.following = following;
        this.unitPath = unitPath;
        this.jobId = jobId;
        this.jobType = jobType;
        this.jobPath = jobPath;
    }
}
