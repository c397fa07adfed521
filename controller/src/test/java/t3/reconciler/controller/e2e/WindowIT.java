package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static t3.reconciler.controller.e2e.DaemonProcess.ev;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import t3.reconciler.controller.cli.Main;
import t3.reconciler.controller.store.Event;
import t3.reconciler.controller.store.StateStore;

/**
 * The maintenance window (issue 8.5) on the real bed: a pass outside the window never bumps (the hold names the
 * window, nothing is installed), the operator's explicit override bumps anyway and is in the event log, and a pass
 * inside the window bumps. The running daemon, started outside the window, does not catch up; a plain SIGHUP does not
 * override; {@code reconcile --outside-window} does, once. Windows are computed from the machine's clock in UTC, an hour or more away from its edges.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WindowIT {
    static final String V0 = "0.0.25-nightly.20260601.1";
    static final String V1 = "0.0.25-nightly.20260602.1";
    static final String V2 = "0.0.25-nightly.20260603.1";
    static final String V3 = "0.0.25-nightly.20260604.1";
    static final Duration PASS = Duration.ofSeconds(180);
    static final DateTimeFormatter HM = DateTimeFormatter.ofPattern("HH:mm");
    static Bed bed;
    static String original;

    @BeforeAll
    static void up() throws Exception {
        bed = Bed.fresh("t3w-a");
        original = Files.readString(bed.spec);
        assertTrue(original.contains("window: always"), original);
        bed.publish(V1, "good", "nightly");
    }

    @AfterAll
    static void down() throws Exception {
        if (bed != null) bed.close();
    }

    /** {@code HH:MM-HH:MM} in UTC from now+fromMinutes to now+toMinutes (wraps midnight as the loader allows). */
    static String window(int fromMinutes, int toMinutes) throws Exception {
        LocalTime now = LocalTime.now(ZoneOffset.UTC);
        String w = now.plusMinutes(fromMinutes).format(HM) + "-" + now.plusMinutes(toMinutes).format(HM);
        Files.writeString(bed.spec, original.replace("window: always", "window: \"" + w + "\", zone: UTC"));
        return w;
    }

    @Test
    @Order(1)
    void aPassOutsideTheWindowDoesNotBump() throws Exception {
        String w = window(120, 180);
        assertEquals(Main.REFUSED, Main.run("run", "--once", "-f", bed.spec.toString()), "held by the window");

        assertEquals(prefix(V0), Files.readSymbolicLink(bed.link()), "the link stays on " + V0);
        assertFalse(Files.exists(bed.dir.resolve("versions/" + V1)), V1 + " is not even installed aside");
        List<Event> events = events();
        Event hold = events.stream().filter(e -> e.action().equals("hold:window")).findFirst().orElseThrow(() -> new AssertionError("no window hold: " + events));
        assertTrue(hold.reason().contains("outside the maintenance window " + w) && hold.reason().contains(V1), hold.reason());
        assertTrue(events.stream().noneMatch(e -> e.action().equals("start-rollout") || e.action().equals("install")), "no bump started: " + events);
    }

    @Test
    @Order(2)
    void theOperatorsOverrideBumpsOutsideTheWindowAndIsRecorded() throws Exception {
        window(120, 180);
        assertEquals(Main.OK, Main.run("run", "--once", "--outside-window", "-f", bed.spec.toString()), "the override bumps and converges");

        assertEquals(prefix(V1), Files.readSymbolicLink(bed.link()));
        List<Event> events = events();
        assertTrue(events.stream().anyMatch(e -> e.action().equals("window-override")), "the override is in the event log: " + events);
        assertTrue(events.stream().anyMatch(e -> e.action().equals("promote") && e.target().equals(V1) && e.outcome().equals("ok")), events.toString());
    }

    @Test
    @Order(3)
    void aPassInsideTheWindowBumps() throws Exception {
        bed.publish(V2, "good", "nightly");
        long overridesBefore = events().stream().filter(e -> e.action().equals("window-override")).count();
        window(-60, 60);
        assertEquals(Main.OK, Main.run("run", "--once", "-f", bed.spec.toString()), "inside the window: bumps and converges");

        assertEquals(prefix(V2), Files.readSymbolicLink(bed.link()));
        List<Event> events = events();
        assertTrue(events.stream().anyMatch(e -> e.action().equals("promote") && e.target().equals(V2) && e.outcome().equals("ok")), events.toString());
        assertEquals(overridesBefore, events.stream().filter(e -> e.action().equals("window-override")).count(), "no override needed or recorded");
    }

    @Test
    @Order(4)
    void theRunningDaemonHoldsOutsideTheWindowUntilTheCliOverrides() throws Exception {
        bed.publish(V3, "good", "nightly");
        window(120, 180);
        try (DaemonProcess daemon = DaemonProcess.start(bed.spec, Map.of())) {
            int at = daemon.awaitIndex(0, ev("reconcile").and(n -> n.path("trigger").asText().equals("start")), PASS, "the start pass");
            JsonNode done = daemon.await(at, ev("reconciled"), PASS, "the start pass ends");
            assertEquals("held", done.path("outcome").asText(), "a controller started outside the window does not catch up: " + done);
            assertTrue(done.path("reason").asText().contains("outside the maintenance window"), done.toString());

            int mark = daemon.mark();
            daemon.signal("HUP");
            at = daemon.awaitIndex(mark, ev("reconcile").and(n -> n.path("trigger").asText().equals("SIGHUP")), PASS, "a plain SIGHUP pass");
            done = daemon.await(at, ev("reconciled"), PASS, "it ends");
            assertEquals("held", done.path("outcome").asText(), "a plain SIGHUP does not override the window: " + done);

            mark = daemon.mark();
            assertEquals(Main.OK, Main.run("reconcile", "--outside-window", "-f", bed.spec.toString()));
            at = daemon.awaitIndex(mark, ev("reconcile").and(n -> n.path("windowOverride").asText().equals("true")), PASS, "the override pass");
            done = daemon.await(at, ev("reconciled"), PASS, "the override pass ends");
            assertEquals("converged", done.path("outcome").asText(), done.toString());
            assertEquals(prefix(V3), Files.readSymbolicLink(bed.link()));
            List<Event> events = events();
            assertTrue(events.stream().anyMatch(e -> e.action().equals("window-override") && e.reason().startsWith("requested by")), "the CLI records who asked: " + events);
        }
    }

    static Path prefix(String v) { return bed.dir.resolve("versions/" + v + "/bin/t3"); }

    static List<Event> events() {
        try (StateStore store = StateStore.open(bed.stateDb())) {
            return store.events(Optional.empty(), 1000);
        }
    }
}
