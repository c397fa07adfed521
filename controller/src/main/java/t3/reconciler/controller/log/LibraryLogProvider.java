package t3.reconciler.controller.log;

import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.NOPMDCAdapter;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * The SLF4J binding of the controller (found through META-INF/services): dbus-java, sqlite-jdbc and micrometer log
 * through SLF4J, and their warnings and errors belong in the controller's own log, where an operator already looks,
 * not silenced (slf4j-nop did that) nor in a second format on the same stream (slf4j-simple's plain lines would
 * break a JSON consumer of the journal).
 */
public final class LibraryLogProvider implements SLF4JServiceProvider {
    private final ILoggerFactory loggers = LibraryLogger::new;
    private final IMarkerFactory markers = new BasicMarkerFactory();
    private final MDCAdapter mdc = new NOPMDCAdapter();

    @Override public ILoggerFactory getLoggerFactory() { return loggers; }

    @Override public IMarkerFactory getMarkerFactory() { return markers; }

    @Override public MDCAdapter getMDCAdapter() { return mdc; }

    @Override public String getRequestedApiVersion() { return "2.0.99"; }

    @Override public void initialize() {}
}
