package t3.reconciler.controller.loop;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import t3.reconciler.controller.log.Log;

/**
 * Every alert is a log line (journald/Loki can alert on it); with a webhook configured it is also POSTed in
 * Alertmanager's {@code /api/v2/alerts} format, asynchronously ({@link WebhookQueue}): {@link #fire} returns at once,
 * so a webhook that hangs or fails never delays the step that raised the alert. Close it to let queued alerts go out.
 */
public final class LogAlerter implements Alerter, AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Log log;
    private final Optional<WebhookQueue> webhook;

    public LogAlerter(Log log, Optional<URI> webhook) { this(log, webhook, WebhookQueue.Settings.DEFAULT); }

    LogAlerter(Log log, Optional<URI> webhook, WebhookQueue.Settings settings) {
        this.log = log;
        this.webhook = webhook.map(u -> new WebhookQueue(log, u, settings));
    }

    @Override
    public void fire(String name, String severity, String summary, Map<String, String> labels) {
        log.error("alert", Log.kv("alert", name, "severity", severity, "labels", labels, "reason", summary));
        if (webhook.isEmpty()) return;
        Map<String, String> l = new LinkedHashMap<>(labels);
        l.put("alertname", name);
        l.put("severity", severity);
        l.put("service", "t3-reconciler");
        try {
            webhook.get().offer(name, JSON.writeValueAsString(List.of(Map.of("labels", l, "annotations", Map.of("summary", summary)))));
        } catch (JsonProcessingException e) {
            log.warn("alert-webhook", Log.kv("alert", name, "reason", "cannot encode the alert: " + e.getMessage()));
        }
    }

    /** Delivers what is queued, within the queue's drain time. */
    @Override
    public void close() { webhook.ifPresent(WebhookQueue::close); }
}
