package t3.reconciler.controller.log;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.time.Clock;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One line per decision, for operators. JSON lines (journald and Loki parse them; {@code jq} reads them) unless
 * the output is a terminal, then one short human line. Fields: ts, level, event, then whatever the caller adds
 * (action, user, version, outcome, reason).
 */
public final class Log {
    public enum Format { JSON, HUMAN }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DateTimeFormatter HUMAN_TIME = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneId.systemDefault());
    private final PrintStream out;
    private final Format format;
    private final Clock clock;

    public Log(PrintStream out, Format format, Clock clock) {
        this.out = out;
        this.format = format;
        this.clock = clock;
    }

    /** JSON under systemd or in a pipe, human in a terminal; {@code T3R_LOG=json|human} decides when set. */
    public static Log toStderr(Clock clock) {
        String forced = System.getenv("T3R_LOG");
        Format f = forced != null ? ("human".equals(forced) ? Format.HUMAN : Format.JSON)
                : System.console() != null ? Format.HUMAN : Format.JSON;
        return new Log(System.err, f, clock);
    }

    public static Map<String, Object> kv(Object... pairs) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < pairs.length; i += 2) if (pairs[i + 1] != null) m.put(String.valueOf(pairs[i]), pairs[i + 1]);
        return m;
    }

    public void info(String event, Map<String, Object> fields) { write("info", event, fields); }

    public void warn(String event, Map<String, Object> fields) { write("warn", event, fields); }

    public void error(String event, Map<String, Object> fields) { write("error", event, fields); }

    private synchronized void write(String level, String event, Map<String, Object> fields) {
        if (format == Format.JSON) {
            ObjectNode n = JSON.createObjectNode();
            n.put("ts", clock.instant().toString());
            n.put("level", level);
            n.put("event", event);
            fields.forEach((k, v) -> n.put(k, String.valueOf(v)));
            out.println(n.toString());
        } else {
            StringBuilder b = new StringBuilder(HUMAN_TIME.format(clock.instant())).append(' ');
            if (!"info".equals(level)) b.append(level.toUpperCase()).append(' ');
            b.append(event);
            Object reason = fields.get("reason");
            fields.forEach((k, v) -> { if (!"reason".equals(k)) b.append(' ').append(k).append('=').append(v); });
            if (reason != null) b.append(" — ").append(reason);
            out.println(b);
        }
        out.flush();
    }
}
