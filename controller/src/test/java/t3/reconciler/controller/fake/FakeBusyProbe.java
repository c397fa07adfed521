package t3.reconciler.controller.fake;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import t3.reconciler.controller.actuator.BusyProbe;
import t3.reconciler.controller.actuator.UnitStatus;

/** Agent processes under a user's unit, as command lines; matched against the spec's busy pattern like the real probe. */
public final class FakeBusyProbe implements BusyProbe {
    private final FakeActuators fx;
    private final FakeUnits units;
    private final Map<String, List<String>> processes = new HashMap<>();

    FakeBusyProbe(FakeActuators fx, FakeUnits units) {
        this.fx = fx;
        this.units = units;
    }

    /** An agent at work under this user's unit, until {@link #idle}. */
    public void busy(String user) { processes(user, List.of("node /usr/lib/claude/cli.js --resume")); }

    public void idle(String user) { processes(user, List.of()); }

    public synchronized void processes(String user, List<String> commandLines) { processes.put(units.unitOf(user), List.copyOf(commandLines)); }

    @Override
    public List<String> busyProcesses(UnitStatus unit, Pattern busy) {
        fx.enter("busy.busyProcesses " + unit.name());
        synchronized (this) {
            return processes.getOrDefault(unit.name(), List.of()).stream().filter(c -> busy.matcher(c).find()).toList();
        }
    }
}
