package t3.reconciler.controller.loop;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import t3.reconciler.controller.log.Log;

/**
 * Every alert is a log line (journald/Loki can alert on it); with a webhook configured it is also POSTed in
 * Alertmanager's {@code /api/v2/alerts} format. A webhook that fails never stops the controller: it is logged.
 */
public final class LogAlerter implements Alerter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Log log;
    private final Optional<URI> webhook;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public LogAlerter(Log log, Optional<URI> webhook) {
        this.log = log;
        this.webhook = webhook;
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
            String body = JSON.writeValueAsString(List.of(Map.of("labels", l, "annotations", Map.of("summary", summary))));
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(webhook.get()).timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() / 100 != 2) log.warn("alert-webhook", Log.kv("status", r.statusCode(), "reason", "webhook refused the alert: " + r.body()));
        } catch (Exception e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            log.warn("alert-webhook", Log.kv("reason", "webhook unreachable: " + e.getMessage()));
        }
    }
}
