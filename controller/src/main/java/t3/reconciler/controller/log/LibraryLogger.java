package t3.reconciler.controller.log;

import java.time.Clock;
import java.util.Map;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/**
 * A library's logger: warnings and errors become {@code "event":"library"} lines of {@link Log} on stderr (the
 * journal under systemd), naming the logger; debug and info are dropped, as the libraries are chatty there and
 * the controller logs its own decisions.
 */
final class LibraryLogger extends LegacyAbstractLogger {
    private static final long serialVersionUID = 1L;

    LibraryLogger(String name) {
        this.name = name;
    }

    @Override public boolean isTraceEnabled() { return false; }

    @Override public boolean isDebugEnabled() { return false; }

    @Override public boolean isInfoEnabled() { return false; }

    @Override public boolean isWarnEnabled() { return true; }

    @Override public boolean isErrorEnabled() { return true; }

    @Override protected String getFullyQualifiedCallerName() { return null; }

    @Override
    protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] arguments, Throwable throwable) {
        if (level != Level.WARN && level != Level.ERROR) return;
        Map<String, Object> fields = Log.kv("logger", name, "message", MessageFormatter.basicArrayFormat(pattern, arguments),
                "error", throwable == null ? null : throwable.toString());
        // Looked up per line, not kept: System.err is what it is when the library speaks (and such lines are rare).
        Log log = Log.toStderr(Clock.systemUTC());
        if (level == Level.ERROR) log.error("library", fields); else log.warn("library", fields);
    }
}
