package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A JVM started with SIGHUP ignored (nohup, or a parent that ignores it) inherits that and installs no handler, without
 * a word: 'systemctl reload' and 'reconcile' then do nothing. The daemon must say so when it starts. (A whole test run
 * started under nohup once failed every SIGHUP test this way, with nothing in the daemons' logs.)
 */
class SighupIgnoredIT {
    @Test
    void aDaemonStartedWithSighupIgnoredSaysSoInItsLog() throws Exception {
        try (Bed bed = Bed.fresh("t3sh-a"); DaemonProcess daemon = DaemonProcess.start(bed.spec, Map.of(), List.of("nohup"))) {
            JsonNode warned = daemon.await(0, DaemonProcess.ev("sighup-ignored"), Duration.ofMinutes(3), "the daemon warns that SIGHUP is ignored");
            assertEquals("warn", warned.path("level").asText(), warned.toString());
            assertTrue(warned.path("reason").asText().contains("systemctl reload"), warned.toString());
            daemon.await(0, DaemonProcess.ev("reconciled"), Duration.ofMinutes(3), "the daemon still reconciles");
        }
    }
}
