package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static t3.reconciler.controller.e2e.AlertReceiver.alert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.loop.AlertmanagerAlerter;
import t3.reconciler.controller.loop.SpecAlerter;
import t3.reconciler.model.DesiredState;

/**
 * alerts.alertmanager against a real Alertmanager (Debian's binary): the controller's own alert arrives at the
 * receiver behind it with its labels and summary, Alertmanager holds it with an end an hour on, and a resolve reaches
 * the receiver as a resolved notification. Needs no root and no bed, only the binary ./test fetches.
 */
class AlertmanagerAlerterIT {
    static final Duration WAIT = Duration.ofSeconds(60);
    static final ObjectMapper JSON = new ObjectMapper();
    final Log log = Log.toStderr(Clock.systemUTC());

    @TempDir
    Path dir;

    @Test
    void anAlertFiresWithLabelsAndAnEndAndIsResolvedWithEndsAtNow() throws Exception {
        try (AlertStack stack = AlertStack.alertmanager(dir.resolve("am"));
             AlertmanagerAlerter alerter = new AlertmanagerAlerter(log, stack.alertmanager, Clock.systemUTC())) {
            Instant before = Instant.now();
            alerter.fire("T3BumpFailed", "critical", "0.0.26 failed: health check", Map.of("version", "0.0.26"));

            JsonNode firing = stack.receiver.await(alert("T3BumpFailed", "firing"), WAIT, "T3BumpFailed firing");
            assertEquals("0.0.26", firing.path("labels").path("version").asText(), firing.toString());
            assertEquals("critical", firing.path("labels").path("severity").asText(), firing.toString());
            assertEquals("t3-reconciler", firing.path("labels").path("service").asText(), firing.toString());
            assertEquals("0.0.26 failed: health check", firing.path("annotations").path("summary").asText(), firing.toString());

            JsonNode held = activeAlerts(stack.alertmanager).get(0);
            Duration open = Duration.between(Instant.parse(held.path("startsAt").asText()), Instant.parse(held.path("endsAt").asText()));
            assertTrue(!Instant.parse(held.path("startsAt").asText()).isBefore(before.minusSeconds(1)), held.toString());
            assertEquals(Duration.ofHours(1), open, "an event stays open for the hour the event rules look back: " + held);

            alerter.resolve("T3BumpFailed", "critical", Map.of("version", "0.0.26"));
            JsonNode resolved = stack.receiver.await(alert("T3BumpFailed", "resolved"), WAIT, "T3BumpFailed resolved");
            assertEquals("0.0.26", resolved.path("labels").path("version").asText(), resolved.toString());
            assertTrue(!Instant.parse(resolved.path("endsAt").asText()).isAfter(Instant.now()), "ended now, not in an hour: " + resolved);
            assertEquals(0, activeAlerts(stack.alertmanager).size(), "nothing left active in Alertmanager");
        }
    }

    @Test
    void theSpecAlerterFollowsAnEditFromTheWebhookToAlertmanager() throws Exception {
        try (AlertStack stack = AlertStack.alertmanager(dir.resolve("am"))) {
            AtomicReference<DesiredState.Alerts> inForce = new AtomicReference<>(new DesiredState.Alerts(Optional.empty(), Duration.ofDays(3)));
            try (SpecAlerter alerter = SpecAlerter.following(log, inForce::get)) {
                alerter.fire("T3RolledBack", "warning", "journal only", Map.of("version", "0.0.1"));
                inForce.set(new DesiredState.Alerts(Optional.empty(), Optional.of(stack.alertmanager), Duration.ofDays(3)));
                alerter.fire("T3RolledBack", "warning", "0.0.2 was rolled back", Map.of("version", "0.0.2"));
                JsonNode a = stack.receiver.await(alert("T3RolledBack", "firing"), WAIT, "T3RolledBack after the edit");
                assertEquals("0.0.2", a.path("labels").path("version").asText(), "the alert fired before the edit went to the journal only: " + stack.receiver.summary());
            }
        }
    }

    private static JsonNode activeAlerts(URI am) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(am + "/api/v2/alerts?active=true&silenced=false&inhibited=false"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }
}
