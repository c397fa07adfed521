package t3.reconciler.controller.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.common.util.internal.logging.InternalLoggerFactory;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Libraries' warnings reach the controller's log, through each library's own logging facade (sqlite-jdbc's and
 * micrometer's pick SLF4J when a binding is there; dbus-java calls SLF4J directly). Under slf4j-nop all three
 * vanished.
 */
class LibraryLogTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The JSON lines written to stderr while {@code r} ran. */
    static List<JsonNode> stderrOf(Runnable r) {
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(captured, true));
            r.run();
        } finally {
            System.setErr(err);
        }
        return captured.toString().lines().map(l -> {
            try {
                return JSON.readTree(l);
            } catch (Exception e) {
                throw new AssertionError("not a JSON log line: " + l, e);
            }
        }).toList();
    }

    @Test
    void sqliteJdbcWarningsAndErrorsReachTheLog() {
        List<JsonNode> lines = stderrOf(() -> {
            org.sqlite.util.Logger l = org.sqlite.util.LoggerFactory.getLogger(org.sqlite.SQLiteConnection.class);
            l.info(() -> "chatter");
            l.warn(() -> "native library fell back");
            l.error(() -> "cannot close", new IllegalStateException("disk gone"));
        });
        assertEquals(2, lines.size(), "info is dropped, warn and error are kept: " + lines);
        assertLine(lines.get(0), "warn", "org.sqlite.SQLiteConnection", "native library fell back");
        assertLine(lines.get(1), "error", "org.sqlite.SQLiteConnection", "cannot close");
        assertEquals("java.lang.IllegalStateException: disk gone", lines.get(1).path("error").asText());
    }

    @Test
    void micrometerAndDbusJavaWarningsReachTheLog() {
        List<JsonNode> lines = stderrOf(() -> {
            InternalLoggerFactory.getInstance("io.micrometer.prometheus").warn("scrape of {} failed", "/metrics");
            org.slf4j.LoggerFactory.getLogger("org.freedesktop.dbus.connections.AbstractConnection").warn("lost the bus");
            org.slf4j.LoggerFactory.getLogger("org.freedesktop.dbus.connections.AbstractConnection").debug("noise");
        });
        assertEquals(2, lines.size(), lines.toString());
        assertLine(lines.get(0), "warn", "io.micrometer.prometheus", "scrape of /metrics failed");
        assertLine(lines.get(1), "warn", "org.freedesktop.dbus.connections.AbstractConnection", "lost the bus");
    }

    private static void assertLine(JsonNode n, String level, String logger, String message) {
        assertEquals(level, n.path("level").asText(), n.toString());
        assertEquals("library", n.path("event").asText(), n.toString());
        assertEquals(logger, n.path("logger").asText(), n.toString());
        assertEquals(message, n.path("message").asText(), n.toString());
        assertTrue(n.hasNonNull("ts"), n.toString());
    }
}
