package t3.reconciler.controller.actuator;

import java.time.Instant;
import java.util.Optional;

/**
 * @param execMainStart when the main process started ({@code ExecMainStartTimestamp}), empty if never
 * @param controlGroup  the unit's cgroup path relative to the hierarchy root, e.g. {@code /user.slice/.../t3-serve@a.service}
 */
public record UnitStatus(String name, String activeState, String subState, long mainPid, Optional<Instant> execMainStart, int nRestarts, Optional<String> controlGroup) {
    public static UnitStatus missing(String name) {
        return new UnitStatus(name, "missing", "missing", 0, Optional.empty(), 0, Optional.empty());
    }

    public boolean active() { return "active".equals(activeState); }
}
