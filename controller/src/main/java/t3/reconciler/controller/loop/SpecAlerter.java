package t3.reconciler.controller.loop;

import java.net.URI;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import t3.reconciler.controller.log.Log;
import t3.reconciler.model.DesiredState;

/**
 * The alerter for the destination in force ({@code alerts.webhook} or {@code alerts.alertmanager}): when an edit
 * changes it, the next alert goes to the new one; what the old queue still holds is delivered (within its drain
 * time) before it is let go.
 */
public final class SpecAlerter implements Alerter, AutoCloseable {
    /** Where alerts go besides the journal; both empty means the journal only. */
    private record Destination(Optional<URI> webhook, Optional<URI> alertmanager) {
        String describe() {
            return alertmanager.map(u -> "alertmanager " + u).orElse(webhook.map(URI::toString).orElse("none"));
        }
    }

    private final Log log;
    private final Supplier<Destination> destination;
    private final Clock clock;
    private Destination in;
    private Alerter current;
    private AutoCloseable closeCurrent;

    public SpecAlerter(Log log, Supplier<Optional<URI>> webhook) {
        this(log, () -> new Destination(webhook.get(), Optional.empty()), Clock.systemUTC());
    }

    private SpecAlerter(Log log, Supplier<Destination> destination, Clock clock) {
        this.log = log;
        this.destination = destination;
        this.clock = clock;
    }

    /** Follows the whole {@code alerts} section in force: the webhook, or Alertmanager's API v2. */
    public static SpecAlerter following(Log log, Supplier<DesiredState.Alerts> alerts) {
        return new SpecAlerter(log, () -> {
            DesiredState.Alerts a = alerts.get();
            return new Destination(a.webhook(), a.alertmanager());
        }, Clock.systemUTC());
    }

    @Override
    public void fire(String name, String severity, String summary, Map<String, String> labels) {
        alerter().fire(name, severity, summary, labels);
    }

    @Override
    public void resolve(String name, String severity, Map<String, String> labels) {
        alerter().resolve(name, severity, labels);
    }

    private synchronized Alerter alerter() {
        Destination now = destination.get();
        if (current != null && now.equals(in)) return current;
        if (current != null) {
            // Drained on a thread of its own: a hung old webhook must not hold up the step that raised this alert.
            AutoCloseable old = closeCurrent;
            Thread drain = new Thread(() -> closeQuietly(old), "t3r-webhook-drain");
            drain.setDaemon(true);
            drain.start();
            log.info("alert-webhook", Log.kv("outcome", "moved", "reason", "alerts destination changed", "to", now.describe()));
        }
        if (now.alertmanager().isPresent()) {
            AlertmanagerAlerter a = new AlertmanagerAlerter(log, now.alertmanager().get(), clock);
            current = a;
            closeCurrent = a;
        } else {
            LogAlerter a = new LogAlerter(log, now.webhook());
            current = a;
            closeCurrent = a;
        }
        in = now;
        return current;
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // both alerters log what they could not deliver; nothing else to do with a close that failed
        }
    }

    @Override
    public synchronized void close() {
        if (closeCurrent != null) closeQuietly(closeCurrent);
    }
}
