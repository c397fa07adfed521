package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import t3.reconciler.controller.cli.Main;
import t3.reconciler.model.Version;

/**
 * The approval gate's bed: a daemon on a bed whose spec pauses rollouts ({@code canary} extended with the given keys),
 * that bumps to a newly published good build and stops at {@code awaiting-approval}; the real CLI then answers.
 */
final class ApprovalBed implements AutoCloseable {
    static final Version V0 = Version.parse("0.0.25-nightly.20260601.1");
    static final Version V1 = Version.parse("0.0.25-nightly.20260608.2");
    static final Duration PASS = Duration.ofSeconds(240);

    record Run(int code, String out, String err) {}

    final Bed bed;
    DaemonProcess daemon;

    ApprovalBed(String canaryKeys, String... users) throws Exception {
        bed = Bed.fresh(users);
        String spec = Files.readString(bed.spec);
        String withGate = spec.replaceFirst("(?m)^canary: \\{", "canary: {" + canaryKeys + ", ");
        assertTrue(!withGate.equals(spec), "the bed's spec has a canary line:\n" + spec);
        Files.writeString(bed.spec, withGate);
    }

    /** Starts the daemon, lets it adopt V0, then publishes V1 and has it bump until the approval gate holds. */
    void pausedOnV1() throws Exception { pausedOnV1(false); }

    /**
     * @param crashWhilePaused the daemon dies (crash point {@code awaiting-approval}, SIGKILL's effect) the moment it
     *                         pauses; a new one must find the rollout paused where it was, from the store alone
     */
    void pausedOnV1(boolean crashWhilePaused) throws Exception {
        daemon = DaemonProcess.start(bed.spec, crashWhilePaused ? Map.of("T3R_CRASH_AT", "awaiting-approval") : Map.of());
        JsonNode first = daemon.await(0, DaemonProcess.ev("reconciled"), PASS, "the first pass ends");
        assertEquals("converged", first.path("outcome").asText(), first.toString());
        bed.publish(V1.toString(), "good", "nightly");
        int mark = daemon.mark();
        daemon.signal("HUP");
        if (crashWhilePaused) {
            daemon.await(mark, DaemonProcess.ev("crash-point"), PASS, "the daemon dies at the pause");
            assertTrue(daemon.process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), daemon.tail());
            assertEquals(137, daemon.process.exitValue(), daemon.tail());
            daemon.close();
            daemon = DaemonProcess.start(bed.spec, Map.of());
            mark = 0;
        }
        JsonNode decision = daemon.await(mark, DaemonProcess.ev("decision").and(n -> n.path("gate").asText().equals("awaiting-approval")), PASS, "the bump pauses for approval");
        assertTrue(decision.path("reason").asText().contains("waiting for 't3-reconciler promote'"), decision.toString());
        JsonNode held = daemon.await(mark, DaemonProcess.ev("reconciled"), PASS, "the paused pass ends");
        assertEquals("held", held.path("outcome").asText(), held.toString());
        assertMetric("t3r_awaiting_approval", "1.0");
    }

    /** The real CLI in this process (as root, as an operator runs it), then the pass its SIGHUP started, to its end. */
    JsonNode answer(String command) throws Exception {
        int mark = daemon.mark();
        Run r = cli(command, "--reason", "bed test");
        assertEquals(Main.OK, r.code(), r.err());
        assertTrue(r.out().contains("the daemon (pid " + daemon.pid() + ") carries it out"), r.out());
        int at = daemon.awaitIndex(mark, DaemonProcess.ev("reconcile").and(n -> n.path("trigger").asText().contains("SIGHUP")), PASS, "the pass the CLI's SIGHUP starts");
        return daemon.await(at, DaemonProcess.ev("reconciled"), PASS, "that pass ends");
    }

    Run cli(String... args) {
        List<String> full = new ArrayList<>(List.of(args));
        full.add("-f");
        full.add(bed.spec.toString());
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true));
            System.setErr(new PrintStream(e, true));
            return new Run(Main.run(full.toArray(String[]::new)), o.toString(), e.toString());
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    void assertMetric(String name, String value) throws Exception {
        String body = DaemonProcess.scrape(bed.spec);
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)$").matcher(body);
        assertTrue(m.find(), name + " is exported:\n" + body);
        assertEquals(value, m.group(1), name + "\n" + daemon.tail());
    }

    Path versionLink(Version v) { return bed.dir.resolve("versions/" + v + "/bin/t3"); }

    @Override
    public void close() throws Exception {
        try {
            if (daemon != null) daemon.close();
        } finally {
            bed.close();
        }
    }
}
