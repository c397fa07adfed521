package t3.reconciler.controller.loop;

import java.net.URI;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import t3.reconciler.controller.log.Log;

/**
 * The alerter for the webhook in force: when an edit changes {@code alerts.webhook}, the next alert goes to the new
 * one; what the old queue still holds is delivered (within its drain time) before it is let go.
 */
public final class SpecAlerter implements Alerter, AutoCloseable {
    private final Log log;
    private final Supplier<Optional<URI>> webhook;
    private Optional<URI> in;
    private LogAlerter current;

    public SpecAlerter(Log log, Supplier<Optional<URI>> webhook) {
        this.log = log;
        this.webhook = webhook;
    }

    @Override
    public void fire(String name, String severity, String summary, Map<String, String> labels) {
        alerter().fire(name, severity, summary, labels);
    }

    private synchronized LogAlerter alerter() {
        Optional<URI> now = webhook.get();
        if (current != null && now.equals(in)) return current;
        if (current != null) {
            // Drained on a thread of its own: a hung old webhook must not hold up the step that raised this alert.
            Thread drain = new Thread(current::close, "t3r-webhook-drain");
            drain.setDaemon(true);
            drain.start();
            log.info("alert-webhook", Log.kv("outcome", "moved", "reason", "alerts.webhook changed", "to", now.map(URI::toString).orElse("none")));
        }
        current = new LogAlerter(log, now);
        in = now;
        return current;
    }

    @Override
    public synchronized void close() {
        if (current != null) current.close();
    }
}
