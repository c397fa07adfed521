package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import t3.reconciler.controller.actuator.backup.SqliteBackups;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.Version;

/**
 * The long-running controller ({@code t3-reconciler run}) as a real subprocess on the real test bed: SIGHUP and
 * edits of the desired-state file trigger passes, an invalid edit is rejected while the old state stays in force,
 * a broken build opens the breaker and that survives a restart, SIGTERM exits cleanly, a second instance refuses.
 * Every wait is on something the daemon shows (its JSON log, its metrics, its exit), bounded, failing with the log tail.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DaemonIT {
    static Predicate<JsonNode> ev(String event) { return DaemonProcess.ev(event); }

    static final String[] USERS = {"t3d-a", "t3d-b"};
    static final Version V0 = Version.parse("0.0.25-nightly.20260601.1");
    static final Version V1 = Version.parse("0.0.25-nightly.20260608.2");
    static final String BROKEN = "0.0.26-nightly.20260609.3";
    static final Duration PASS = Duration.ofSeconds(180);
    static Bed bed;
    static DaemonProcess daemon;

    @BeforeAll
    static void up() throws Exception {
        bed = Bed.fresh(USERS);
    }

    @AfterAll
    static void down() throws Exception {
        try {
            if (daemon != null) daemon.close();
        } finally {
            if (bed != null) bed.close();
        }
    }

    @Test
    @Order(1)
    void startsWritesItsPidFileAndReconciles() throws Exception {
        daemon = DaemonProcess.start(bed.spec, Map.of());
        daemon.await(0, ev("started"), Duration.ofSeconds(60), "the daemon starts");
        JsonNode first = daemon.await(0, ev("reconcile"), PASS, "the first pass");
        assertEquals("start", first.path("trigger").asText());
        JsonNode done = daemon.await(0, ev("reconciled"), PASS, "the first pass ends");
        assertEquals("converged", done.path("outcome").asText(), done.toString());
        assertEquals(String.valueOf(daemon.pid()), Files.readString(pidFile()).strip());
        // What the first pass did: adopted what runs as last-good and took each user's first daily backup.
        try (StateStore store = StateStore.open(bed.stateDb())) {
            assertEquals(Optional.of(V0), store.lastGood(), "the first pass adopts the version every user runs");
        }
        for (String u : USERS) {
            assertTrue(new SqliteBackups(bed.dir.resolve("backups")).list(u).stream().anyMatch(b -> b.verified() && b.version().equals(V0)),
                    u + " has a verified daily backup on " + V0);
        }
        assertMetric("t3r_steps_total{action=\"backup\",outcome=\"ok\"}", USERS.length + ".0");
    }

    @Test
    @Order(2)
    void aSecondDaemonOnTheSameSpecRefuses() throws Exception {
        DaemonProcess second = DaemonProcess.start(bed.spec, Map.of());
        try {
            assertTrue(second.process.waitFor(60, TimeUnit.SECONDS), "the second daemon exits\n" + second.tail());
            second.drained();
            assertNotEquals(0, second.process.exitValue(), second.tail());
            assertTrue(second.output().contains("refusing to run twice") && second.output().contains(".lock"), "names the lock:\n" + second.tail());
        } finally {
            second.close();
        }
        assertTrue(daemon.process.isAlive(), "the first daemon keeps running");
        assertEquals(String.valueOf(daemon.pid()), Files.readString(pidFile()).strip(), "the refused one left the running daemon's pid file alone");
    }

    @Test
    @Order(3)
    void sighupStartsAPass() throws Exception {
        // Nothing but the SIGHUP makes the daemon look at the registry again (resync is 10 minutes away): the bump to
        // the newly published build is the pass's own effect.
        bed.publish(V1.toString(), "good", "nightly");
        int mark = daemon.mark();
        daemon.signal("HUP");
        int at = daemon.awaitIndex(mark, ev("reconcile").and(n -> n.path("trigger").asText().contains("SIGHUP")), PASS, "a pass triggered by SIGHUP");
        JsonNode done = daemon.await(at, ev("reconciled"), PASS, "the SIGHUP pass ends");
        assertEquals("converged", done.path("outcome").asText(), done.toString());
        assertTrue(daemon.since(0).stream().noneMatch(ev("sighup-ignored")), "a daemon started with SIGHUP handled does not warn that it is ignored");
        assertEquals(bed.dir.resolve("versions/" + V1 + "/bin/t3"), Files.readSymbolicLink(bed.link()), "the SIGHUP pass bumped to " + V1);
        try (StateStore store = StateStore.open(bed.stateDb())) {
            assertEquals(Optional.of(V1), store.lastGood());
        }
    }

    @Test
    @Order(4)
    void anEditOfTheDesiredStateFileStartsAPass() throws Exception {
        String spec = Files.readString(bed.spec);
        assertFalse(spec.contains("freeze:"), spec);
        assertMetric("t3r_frozen{source=\"spec\"}", "0.0");
        int mark = daemon.mark();
        editorWrite(spec + "freeze: true\n");
        int at = daemon.awaitIndex(mark, ev("reconcile").and(n -> n.path("trigger").asText().contains("desired-state edited")), PASS, "a pass triggered by the edit");
        daemon.await(mark, ev("desired-state").and(n -> n.path("outcome").asText().equals("applied")), PASS, "the edit is applied");
        // The edited value took effect in the edit's own pass: it holds at the freeze gate the edit closed.
        JsonNode decision = daemon.await(at, ev("decision"), PASS, "the edit's pass decides");
        assertEquals("freeze", decision.path("gate").asText(), "the pass holds on the edited freeze: true: " + decision);
        JsonNode done = daemon.await(at, ev("reconciled"), PASS, "the edit's pass ends");
        assertEquals("held", done.path("outcome").asText(), done.toString());
        assertMetric("t3r_frozen{source=\"spec\"}", "1.0");

        mark = daemon.mark();
        editorWrite(spec);
        at = daemon.awaitIndex(mark, ev("reconcile").and(n -> n.path("trigger").asText().contains("desired-state edited")), PASS, "the undo's pass");
        done = daemon.await(at, ev("reconciled"), PASS, "the undo's pass ends");
        assertEquals("converged", done.path("outcome").asText(), "unfrozen again: " + done);
        assertMetric("t3r_frozen{source=\"spec\"}", "0.0");
    }

    @Test
    @Order(5)
    void anInvalidEditIsRejectedAndTheOldStateStaysInForce() throws Exception {
        String valid = Files.readString(bed.spec);
        List<String> lines = new ArrayList<>(valid.lines().toList());
        int line = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("schedule:")) {
                lines.set(i, "schedule: {resync: soon, window: always}");
                line = i + 1;
            }
        }
        assertTrue(line > 0, valid);
        int mark = daemon.mark();
        editorWrite(String.join("\n", lines) + "\n");
        JsonNode rejected = daemon.await(mark, ev("desired-state").and(n -> n.path("outcome").asText().equals("rejected")), PASS, "the invalid edit is rejected");
        assertTrue(rejected.path("errors").asText().contains(bed.spec.getFileName() + ":" + line + ":"), "names file:line " + line + ": " + rejected);
        int at = daemon.awaitIndex(mark, ev("reconcile").and(n -> n.path("trigger").asText().contains("desired-state edited")), PASS, "the edit's pass");
        JsonNode done = daemon.await(at, ev("reconciled"), PASS, "the edit's pass ends");
        assertEquals("converged", done.path("outcome").asText(), "the old state is in force: " + done);
        assertMetric("t3r_desired_state_valid", "0.0");

        mark = daemon.mark();
        daemon.signal("HUP");
        at = daemon.awaitIndex(mark, ev("reconcile").and(n -> n.path("trigger").asText().contains("SIGHUP")), PASS, "SIGHUP still reconciles");
        done = daemon.await(at, ev("reconciled"), PASS, "the SIGHUP pass ends");
        assertEquals("converged", done.path("outcome").asText(), done.toString());
        assertFalse(daemon.since(mark).stream().anyMatch(ev("desired-state")), "nothing new applied or rejected: the old state stays in force");
        assertMetric("t3r_desired_state_valid", "0.0");

        // The operator undoes the edit: back to the bytes in force, and the metric recovers.
        mark = daemon.mark();
        editorWrite(valid);
        at = daemon.awaitIndex(mark, ev("reconcile").and(n -> n.path("trigger").asText().contains("desired-state edited")), PASS, "the undo's pass");
        daemon.await(at, ev("reconciled"), PASS, "the undo's pass ends");
        assertMetric("t3r_desired_state_valid", "1.0");
    }

    @Test
    @Order(6)
    void aBuildThatFailsItsCanaryOpensTheBreakerBlocksItAndSetsTheAlertMetrics() throws Exception {
        assertMetric("t3r_breaker_open", "0.0");
        // Passes the health check (run by hand), crashes as a service: only the canary can catch it.
        bed.publish(BROKEN, "crash-under-systemd", "nightly");
        int mark = daemon.mark();
        daemon.signal("HUP");
        daemon.await(mark, ev("step").and(n -> n.path("action").asText().equals("health-check") && n.path("outcome").asText().equals("ok")), PASS,
                "the build passes its health check");
        daemon.await(mark, ev("step").and(n -> n.path("action").asText().equals("canary") && n.path("outcome").asText().equals("failed")), PASS,
                "the canary catches it");
        daemon.await(mark, ev("step").and(n -> n.path("action").asText().equals("finish-rollback") && n.path("outcome").asText().equals("ok")), PASS,
                "the failed bump is rolled back");
        int at = daemon.awaitIndex(mark, ev("decision").and(n -> n.path("gate").asText().equals("breaker")), PASS, "the pass holds at the breaker");
        daemon.await(at, ev("reconciled"), PASS, "the pass ends");
        assertMetric("t3r_breaker_open", "1.0");
        assertMetric("t3r_steps_total{action=\"canary\",outcome=\"failed\"}", "1.0");
        try (StateStore store = StateStore.open(bed.stateDb())) {
            assertTrue(store.blocked().contains(Version.parse(BROKEN)), "the failed build is blocked: " + store.blocked());
        }
    }

    @Test
    @Order(7)
    void sigtermExitsCleanlyAndTheBreakerSurvivesARestart() throws Exception {
        daemon.signal("TERM");
        assertTrue(daemon.process.waitFor(60, TimeUnit.SECONDS), "SIGTERM stops the daemon promptly\n" + daemon.tail());
        daemon.drained();
        assertEquals(0, daemon.process.exitValue(), "a clean stop exits 0\n" + daemon.tail());
        assertFalse(Files.exists(pidFile()), "the pid file is removed");

        daemon = DaemonProcess.start(bed.spec, Map.of());
        daemon.await(0, ev("started"), Duration.ofSeconds(60), "the daemon starts again");
        int at = daemon.awaitIndex(0, ev("reconcile").and(n -> n.path("trigger").asText().equals("start")), PASS, "the first pass after the restart");
        JsonNode decision = daemon.await(at, ev("decision").or(ev("reconciled")), PASS, "the first pass decides");
        assertEquals("decision", decision.path("event").asText(), "the first pass logs why it holds: " + decision);
        assertEquals("breaker", decision.path("gate").asText(), decision.toString());
        JsonNode done = daemon.await(at, ev("reconciled"), PASS, "the first pass ends");
        assertEquals("held", done.path("outcome").asText(), done.toString());
        assertMetric("t3r_breaker_open", "1.0");
    }

    // -- helpers

    static Path pidFile() { return bed.dir.resolve("state/t3-reconciler.pid"); }

    /** Like an editor: write a temp file beside it, then rename over it. */
    static void editorWrite(String content) throws IOException {
        Path tmp = bed.spec.resolveSibling("." + bed.spec.getFileName() + ".swp");
        Files.writeString(tmp, content);
        Files.move(tmp, bed.spec, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static void assertMetric(String name, String value) throws Exception {
        String body = DaemonProcess.scrape(bed.spec);
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)$").matcher(body);
        assertTrue(m.find(), name + " is exported:\n" + body);
        assertEquals(value, m.group(1), name + "\n" + daemon.tail());
    }
}
