package t3.reconciler.controller.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import t3.reconciler.controller.actuator.proc.ProcessStamp;
import t3.reconciler.controller.actuator.proc.ProcessTree;
import t3.reconciler.controller.cli.Main;
import t3.reconciler.controller.store.Event;
import t3.reconciler.controller.store.JournalEntry;
import t3.reconciler.controller.store.JournalKind;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.controller.testbed.RegistryBed;

/**
 * Issue 12, item 5: Recovery kills only the process it journaled and deletes only the directory it journaled. On the
 * real bed, with the health check's scratch dir world-writable and sticky (as {@code /var/tmp}), a local user runs a
 * process whose command line names {@code <scratch>/t3-health-} and makes a {@code <scratch>/t3-health-evil}
 * directory; the controller dies in the middle of a health check ({@code T3R_CRASH_AT=during-health-check}, its
 * throwaway server up) and is restarted. The journaled server and scratch dir must be gone; the user's process must
 * still run and their directory still be there. Before the fix, Recovery killed every process whose command line
 * held the marker and deleted every {@code t3-health-*} entry.
 */
class RecoveryScopeIT {
    static final String USER = "t3sb-recovery";
    static final String ATTACKER = "t3sb-lookalike";
    static final String V1 = "0.0.25-nightly.20260602.1";
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aCrashDuringTheHealthCheckIsCleanedUpExactly() throws Exception {
        Hostile.requireRoot();
        Hostile.ensureUser(ATTACKER);
        Path dir = RegistryBed.repoRoot().resolve("controller/target/e2e-sb-" + UUID.randomUUID().toString().substring(0, 8));
        Path spec = Path.of(last(bed("up", dir.toString(), USER)));
        Process lookalike = null;
        try {
            bed("publish", dir.toString(), V1, "good", "nightly");
            Path scratchDir = dir.resolve("scratch");
            Files.setAttribute(scratchDir, "unix:mode", 01777); // as /var/tmp: any user may create entries here
            Path evilDir = scratchDir.resolve("t3-health-evil");
            assertTrue(Hostile.runAs(ATTACKER, "mkdir", evilDir.toString()).ok());
            lookalike = Hostile.spawn(ATTACKER, List.of("/usr/bin/node", "-e", "setInterval(() => {}, 1e9)", scratchDir.resolve("t3-health-evil").toString()),
                    dir.resolve("lookalike.log"));

            Process crashing = controller(spec, dir.resolve("crash.log"));
            assertTrue(crashing.waitFor(10, TimeUnit.MINUTES), "the crashing run ended");
            assertEquals(137, crashing.exitValue(), "died at the crash point; see " + dir.resolve("crash.log"));

            JournalEntry j;
            try (StateStore store = StateStore.open(dir.resolve("state/state.db"))) {
                j = store.journal().orElseThrow(() -> new AssertionError("no journal left by the crash"));
            }
            assertEquals(JournalKind.HEALTH_CHECK, j.kind());
            JsonNode d = JSON.readTree(j.detail());
            Path scratch = Path.of(d.path("scratch").asText());
            ProcessStamp server = new ProcessStamp(d.path("serverPid").asLong(), d.path("serverStartTicks").asLong());
            assertTrue(server.alive().isPresent(), "the throwaway server outlived the crash: " + j.detail());
            assertTrue(Files.isDirectory(scratch), "its scratch dir is there: " + scratch);

            assertEquals(Main.OK, Main.run("run", "--once", "-f", spec.toString()), "the restarted controller recovers and converges");

            assertFalse(server.alive().isPresent(), "the journaled server (pid " + server.pid() + ") was killed");
            assertFalse(Files.exists(scratch, LinkOption.NOFOLLOW_LINKS), "the journaled scratch dir was deleted");
            assertTrue(lookalike.isAlive(), "the other user's process whose command line looks like ours was not signalled");
            assertTrue(Files.isDirectory(evilDir, LinkOption.NOFOLLOW_LINKS), "the other user's t3-health-evil dir is still there");
            try (StateStore store = StateStore.open(dir.resolve("state/state.db"))) {
                Optional<Event> recovered = store.events(Optional.empty(), 500).stream().filter(e -> e.action().equals("recover")).findFirst();
                assertTrue(recovered.isPresent() && recovered.get().reason().contains(scratch.toString()), "the event log names what was cleaned: " + recovered);
            }
        } finally {
            if (lookalike != null) ProcessTree.kill(lookalike, java.time.Duration.ofSeconds(5));
            bed("down", dir.toString());
        }
    }

    /** {@code run --once} in a JVM of its own, set to die at the health check's crash point. */
    static Process controller(Path spec, Path log) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                "t3.reconciler.controller.cli.Main", "run", "--once", "-f", spec.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("T3R_CRASH_AT", "during-health-check");
        return pb.start();
    }

    static String bed(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(RegistryBed.repoRoot().resolve("testbed/bed.sh").toString()));
        cmd.addAll(List.of(args));
        Path err = Files.createDirectories(Path.of(args[1])).resolve("bed.stderr.log");
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(err.toFile())).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new IOException("bed.sh " + List.of(args) + " failed (exit " + p.exitValue() + "); see " + err);
        return out;
    }

    static String last(String out) {
        String[] lines = out.strip().split("\n");
        return lines[lines.length - 1];
    }
}
