package t3.reconciler.controller.actuator.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.model.DesiredState;

class HostIdTest {
    @TempDir
    Path dir;

    private static DesiredState.Fleet spec(Optional<String> hostId) {
        return new DesiredState.Fleet(List.of(URI.create("http://127.0.0.1:2379")), Optional.empty(), "g", hostId, 1, List.of(),
                Duration.ofHours(1), Duration.ofSeconds(30));
    }

    @Test
    void theConfiguredIdWinsElseTheMachineId() throws Exception {
        Path machineId = Files.writeString(dir.resolve("machine-id"), "0123456789abcdef0123456789abcdef\n");
        assertEquals("vm-01", HostId.of(spec(Optional.of("vm-01")), machineId));
        assertEquals("0123456789abcdef0123456789abcdef", HostId.of(spec(Optional.empty()), machineId));
    }

    @Test
    void aMissingOrOddMachineIdAsksForFleetHostId() throws Exception {
        EtcdException missing = assertThrows(EtcdException.class, () -> HostId.of(spec(Optional.empty()), dir.resolve("none")));
        assertTrue(missing.getMessage().contains("set fleet.hostId"), missing.getMessage());
        Path odd = Files.writeString(dir.resolve("odd"), "a/b\n");
        EtcdException bad = assertThrows(EtcdException.class, () -> HostId.of(spec(Optional.empty()), odd));
        assertTrue(bad.getMessage().contains("does not hold a machine id"), bad.getMessage());
    }
}
