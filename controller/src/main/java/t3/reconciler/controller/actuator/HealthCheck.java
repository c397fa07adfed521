package t3.reconciler.controller.actuator;

import java.nio.file.Path;
import java.util.Optional;
import t3.reconciler.controller.actuator.proc.ProcessStamp;
import t3.reconciler.model.DesiredState;

/**
 * Gate a candidate build before anyone can reach it: a throwaway {@code t3 serve} on a copy of a real backup
 * (the forward migration runs on real data), the real pairing handshake, and a scan of its log.
 */
public interface HealthCheck {
    /** Never throws for a failed check: the verdict is in the result. Throws only when the check itself could not run. */
    Result check(Path t3Binary, Path seedBackup, DesiredState.HealthCheck spec, Leftovers leftovers) throws ActuatorException;

    default Result check(Path t3Binary, Path seedBackup, DesiredState.HealthCheck spec) throws ActuatorException {
        return check(t3Binary, seedBackup, spec, (scratch, server) -> {});
    }

    /**
     * Told, as soon as they exist, what a crash in the middle of the check would leave behind: the exact scratch
     * directory, then the server process. A restart cleans up exactly these and nothing that merely looks like them.
     */
    interface Leftovers {
        void record(Path scratch, Optional<ProcessStamp> server);
    }

    /** @param gate which part decided (start, migration, mint, pairing, session, log) */
    record Result(boolean passed, String gate, String detail) {
        public static Result pass(String detail) { return new Result(true, "all", detail); }
        public static Result fail(String gate, String detail) { return new Result(false, gate, detail); }
    }
}
