package t3.reconciler.controller.actuator;

import java.util.List;
import java.util.regex.Pattern;

/** Finds agent processes at work under a unit: a unit with any is busy and is never restarted. */
public interface BusyProbe {
    /** Command lines of processes in the unit's cgroup (or the main PID's descendants) matching {@code busy}. */
    List<String> busyProcesses(UnitStatus unit, Pattern busy) throws ActuatorException;
}
