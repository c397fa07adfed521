package t3.reconciler.controller.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import t3.reconciler.controller.testbed.ShippedUnit;

/**
 * Candidate code is the one attacker that runs inside the controller's service: npm's install scripts run there as
 * install.user. Under the packaged unit it must not see other accounts' processes (ProtectProc=invisible), gain root
 * through a setuid-root binary it can reach (NoNewPrivileges=), or make a user namespace to be "root" in
 * (RestrictNamespaces=pid). The stand-in flavor probe-sandbox tries all three from its preinstall script
 * (testbed/t3-standin/lib/probe.js); a local account tries the same outside the service, so each refusal is the
 * unit's doing and not the machine's.
 */
class CandidateInsideShippedUnitIT {
    static final String USER = "t3su-cat";
    static final String PROBE = "0.0.25-nightly.20260606.4";
    static final Duration WAIT = Duration.ofMinutes(4);

    @Test
    void candidateCodeSeesNoOneElseGainsNoRootAndMakesNoUserNamespace() throws Exception {
        Hostile.requireRoot();
        try (AttackBed bed = AttackBed.up(ShippedUnit.freshBedDir(), USER)) {
            // A setuid-root `id`: harmless, and it prints the effective uid it got.
            Path setuid = bed.dir.resolve("setuid-id");
            Files.copy(Path.of("/usr/bin/id"), setuid, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(setuid, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setAttribute(setuid, "unix:mode", 04755);
            try {
                assertEquals("0", Hostile.runAs(USER, setuid.toString(), "-u").output().strip(), "outside the service the binary does give root");
                assertTrue(Hostile.runAs(USER, "/usr/bin/unshare", "--user", "--map-root-user", "true").ok(), "outside the service any account may make a user namespace");

                ShippedUnit unit = ShippedUnit.install(bed.dir, bed.dir.resolve("desired-state.yaml"));
                unit.systemctl("start", ShippedUnit.NAME);
                try {
                    // Until its handler is installed a SIGHUP ends the JVM: reload only once the first pass is over.
                    awaitOnLog(unit, () -> Files.readString(unit.logFile()).contains("\"event\":\"reconciled\"") ? "" : null, "the first pass");
                    // The probe reports into the service's private /tmp, reached through the main process's root.
                    Path record = Path.of("/proc/" + unit.mainPid() + "/root/tmp/t3-standin-record/" + PROBE);
                    Files.createDirectories(record);
                    Files.setPosixFilePermissions(record, PosixFilePermissions.fromString("rwxrwxrwx"));
                    Files.writeString(record.resolve("setuid"), setuid.toString());
                    bed.publish(PROBE, "probe-sandbox", "nightly");
                    unit.systemctl("reload", ShippedUnit.NAME);
                    JsonNode probe = new ObjectMapper().readTree(awaitOnLog(unit, () -> report(record), "the probe-sandbox install script's report"));

                    int candidate = Hostile.uid("t3-candidate");
                    assertEquals(candidate, probe.path("uid").asInt(), "the install script ran as install.user: " + probe);
                    assertEquals(candidate, probe.path("setuidEuid").asInt(-1), "a setuid-root binary gave it no root: " + probe);
                    assertEquals(0, probe.path("foreignPids").asInt(-1), "it saw no other account's process: " + probe);
                    assertFalse(probe.path("userNamespace").asBoolean(true), "it could not make a user namespace: " + probe);
                } finally {
                    unit.systemctl("stop", ShippedUnit.NAME);
                }
            } finally {
                Files.deleteIfExists(setuid);
            }
        }
    }

    /** The report, once written whole, or null. */
    private static String report(Path record) throws Exception {
        try (var s = Files.list(record)) {
            Path report = s.filter(p -> p.getFileName().toString().matches("probe\\.\\d+\\.json")).findFirst().orElse(null);
            if (report == null) return null;
            String text = Files.readString(report);
            return text.endsWith("\n") ? text : null;
        }
    }

    interface Check {
        String value() throws Exception;
    }

    /**
     * What {@code check} finds, looked for whenever the daemon logs a line (the probe's install step ends after the
     * script ran). The report's own directory is reached through /proc/PID/root, where inotify cannot be set up.
     */
    private static String awaitOnLog(ShippedUnit unit, Check check, String what) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        try (WatchService ws = unit.logFile().getFileSystem().newWatchService()) {
            unit.logFile().getParent().register(ws, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
            while (System.nanoTime() < deadline) {
                String v = check.value();
                if (v != null) return v;
                if (unit.failed().isPresent()) fail(unit.failed().get());
                WatchKey key = ws.poll(5, TimeUnit.SECONDS);
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                }
            }
        }
        fail("no " + what + " within " + WAIT.toSeconds() + " s; see " + unit.logFile());
        return null;
    }
}
