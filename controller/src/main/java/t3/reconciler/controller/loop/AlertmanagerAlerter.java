package t3.reconciler.controller.loop;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import t3.reconciler.controller.log.Log;

/**
 * The controller's own alerts posted to Alertmanager's API v2 ({@code <base>/api/v2/alerts}), as an alternative to
 * the generic webhook: each alert carries {@code startsAt} and {@code endsAt}, so Alertmanager resolves it by itself
 * after {@link #HOLD} (the window the Prometheus rules on the same events use) or when {@link #resolve} posts it again
 * ending now. Every alert is also a log line. Delivery goes through a {@link WebhookQueue}: never inside a step.
 */
public final class AlertmanagerAlerter implements Alerter, AutoCloseable {
    /** How long an alert stays firing unless resolved sooner: the 1 h the event rules in docs/alerts look back. */
    static final Duration HOLD = Duration.ofHours(1);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Alertmanager identifies an alert by its label set: what was fired, so a resolve repeats its start. */
    private record Key(String name, Map<String, String> labels) {}

    private final Log log;
    private final Clock clock;
    private final WebhookQueue queue;
    private final Map<Key, Instant> firing = new HashMap<>();

    public AlertmanagerAlerter(Log log, URI base, Clock clock) { this(log, base, clock, WebhookQueue.Settings.DEFAULT); }

    AlertmanagerAlerter(Log log, URI base, Clock clock, WebhookQueue.Settings settings) {
        this.log = log;
        this.clock = clock;
        this.queue = new WebhookQueue(log, apiOf(base), settings);
    }

    /** The v2 alerts endpoint under the base URL, keeping a route prefix ({@code http://h:9093/am} → {@code /am/api/v2/alerts}). */
    static URI apiOf(URI base) {
        String s = base.toString();
        return URI.create((s.endsWith("/") ? s : s + "/") + "api/v2/alerts");
    }

    @Override
    public void fire(String name, String severity, String summary, Map<String, String> labels) {
        log.error("alert", Log.kv("alert", name, "severity", severity, "labels", labels, "reason", summary, "to", "alertmanager"));
        Map<String, String> l = labelsOf(name, severity, labels);
        Instant now = clock.instant();
        synchronized (this) {
            // Alertmanager has ended what is older than HOLD by itself: forgetting it keeps a long-running daemon's map small.
            firing.values().removeIf(started -> !started.plus(HOLD).isAfter(now));
            firing.put(new Key(name, l), now);
        }
        post(name, l, Map.of("summary", summary), now, now.plus(HOLD));
    }

    /** Ends the alert now; one that was never fired here (or already resolved) is left alone. */
    @Override
    public void resolve(String name, String severity, Map<String, String> labels) {
        Map<String, String> l = labelsOf(name, severity, labels);
        Instant started;
        synchronized (this) {
            started = firing.remove(new Key(name, l));
        }
        if (started == null) return;
        Instant now = clock.instant();
        log.info("alert", Log.kv("alert", name, "outcome", "resolved", "labels", labels, "to", "alertmanager"));
        // Alertmanager refuses an end before the start: the same instant is a resolve too.
        post(name, l, Map.of(), started, now.isBefore(started) ? started : now);
    }

    private static Map<String, String> labelsOf(String name, String severity, Map<String, String> labels) {
        Map<String, String> l = new TreeMap<>(labels);
        l.put("alertname", name);
        l.put("severity", severity);
        l.put("service", "t3-reconciler");
        return l;
    }

    private void post(String name, Map<String, String> labels, Map<String, String> annotations, Instant startsAt, Instant endsAt) {
        Map<String, Object> alert = new LinkedHashMap<>();
        alert.put("labels", labels);
        alert.put("annotations", annotations);
        alert.put("startsAt", startsAt.toString());
        alert.put("endsAt", endsAt.toString());
        try {
            queue.offer(name, JSON.writeValueAsString(List.of(alert)));
        } catch (JsonProcessingException e) {
            log.warn("alert-webhook", Log.kv("alert", name, "reason", "cannot encode the alert: " + e.getMessage()));
        }
    }

    /** Delivers what is queued, within the queue's drain time. */
    @Override
    public void close() { queue.close(); }
}
