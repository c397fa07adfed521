package t3.reconciler.controller.actuator.fleet;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import t3.reconciler.model.DesiredState;

/** This host's id in the fleet: {@code fleet.hostId}, else the machine id systemd gave the host. */
public final class HostId {
    private HostId() {}

    public static final Path MACHINE_ID = Path.of("/etc/machine-id");
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    public static String of(DesiredState.Fleet fleet) throws EtcdException {
        return of(fleet, MACHINE_ID);
    }

    static String of(DesiredState.Fleet fleet, Path machineId) throws EtcdException {
        if (fleet.hostId().isPresent()) return fleet.hostId().get();
        try {
            String id = Files.readString(machineId).strip();
            if (!ID.matcher(id).matches()) throw new EtcdException(machineId + " does not hold a machine id; set fleet.hostId");
            return id;
        } catch (IOException e) {
            throw new EtcdException("fleet.hostId is not set and " + machineId + " cannot be read (" + e.getMessage() + "): set fleet.hostId", e);
        }
    }
}
