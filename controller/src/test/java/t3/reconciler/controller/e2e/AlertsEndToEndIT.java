package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static t3.reconciler.controller.e2e.AlertReceiver.alert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import t3.reconciler.controller.cli.Main;
import t3.reconciler.model.Version;

/**
 * Issue 17: the alerts proven end to end with the real servers. A daemon runs on the bed; Prometheus (Debian's
 * binary) scrapes it every second and evaluates docs/alerts' rules (durations shortened, nothing else: {@link
 * TestRules}); Alertmanager (Debian's binary) sends every alert to a receiver in this test, which the daemon's own
 * alerts also reach (alerts.alertmanager). The daemon backs up into a full disk (T3BackupFailing, then resolved once
 * the disk is fixed), then bumps to a build that crashes under systemd (T3BumpFailed from the controller; T3RolledBack,
 * T3Frozen and T3HeldBack from the rules), then recovers: unfrozen, it follows a good build (resolved notifications).
 * Last, every panel query of docs/grafana's dashboard is evaluated on this Prometheus and must return data.
 */
class AlertsEndToEndIT {
    static final String USER = "t3re-alert";
    static final Version BAD = Version.parse("0.0.25-nightly.20260608.3");
    static final Version GOOD = Version.parse("0.0.25-nightly.20260609.1");
    static final Duration WAIT = Duration.ofMinutes(4);
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static Bed bed;
    static AlertStack stack;
    static Path fullDisk;
    static Path alerting;

    @BeforeAll
    static void up() throws Exception {
        bed = Bed.fresh(USER);
        alerting = bed.dir.resolve("alerting");
        stack = AlertStack.alertmanager(alerting);
        Files.writeString(bed.spec, "alerts: {alertmanager: \"" + stack.alertmanager + "\"}\n", StandardOpenOption.APPEND);
        Path original = Bed.repoRoot().resolve("docs/alerts/t3-reconciler.rules.yml");
        String rules = Files.readString(original);
        String copy = TestRules.shortened(rules);
        assertNotEquals(rules, copy, "the durations were shortened");
        assertTrue(TestRules.sameApartFromDurations(rules, copy), "the test's rules are docs/alerts' apart from durations");
        stack.withPrometheus(alerting, metricsAddress(), Files.writeString(alerting.resolve("rules.yml"), copy));
    }

    @AfterAll
    static void down() throws Exception {
        try {
            if (stack != null) {
                Files.writeString(alerting.resolve("received.json"), JSON.writeValueAsString(stack.receiver.notifications()));
                stack.close();
            }
            if (fullDisk != null) sh("umount", "-l", fullDisk.toString());
        } finally {
            if (bed != null) bed.close();
        }
    }

    @Test
    void aFailedBackupAndAFailedBumpReachTheReceiverThroughPrometheusAndAlertmanagerAndResolveAfterRecovery() throws Exception {
        String healthy = Files.readString(bed.spec);
        fullDisk = bed.dir.resolve("fullbackups");
        Files.createDirectories(fullDisk);
        sh("mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "t3re-full", fullDisk.toString());
        BackupFailingAlertIT.fill(fullDisk.resolve("filler"));
        String full = healthy.replaceAll("(?m)^backup: \\{dir: [^,]*,", "backup: {dir: " + fullDisk + ",");
        assertNotEquals(healthy, full, "the bed's spec has a backup: {dir: ...} line to point at the full disk");
        Files.writeString(bed.spec, full);

        AlertReceiver receiver = stack.receiver;
        try (DaemonProcess d = DaemonProcess.start(bed.spec, Map.of())) {
            // 1. A backup that really fails (the backup disk is full), then the disk fixed.
            JsonNode step = d.await(0, step("backup"), WAIT, "the daily backup into the full disk");
            assertEquals("failed", step.path("outcome").asText(), step + "\n" + d.tail());
            JsonNode backupFailing = receiver.await(alert("T3BackupFailing", "firing").and(fromRule()), WAIT, "T3BackupFailing firing");
            assertEquals("warning", backupFailing.path("labels").path("severity").asText(), backupFailing.toString());
            int fixed = d.mark();
            Files.writeString(bed.spec, healthy);
            JsonNode ok = d.await(fixed, step("backup").and(n -> n.path("outcome").asText().equals("ok")), WAIT, "the daily backup once the spec points at a disk with room");
            assertEquals(USER, ok.path("target").asText(USER), ok.toString());
            receiver.await(alert("T3BackupFailing", "resolved").and(fromRule()), WAIT, "T3BackupFailing resolved after the backups work again");

            // 2. A bump that really fails: the build crashes under systemd, the canary catches it, it is rolled back.
            int bump = d.mark();
            bed.publish(BAD.toString(), "crash-under-systemd", "nightly");
            d.signal("HUP");
            JsonNode rolledBack = d.await(bump, step("finish-rollback"), WAIT, "the rollback of " + BAD);
            assertEquals("ok", rolledBack.path("outcome").asText(), rolledBack + "\n" + d.tail());
            JsonNode bumpFailed = receiver.await(alert("T3BumpFailed", "firing"), WAIT, "T3BumpFailed (the controller's own, through alerts.alertmanager)");
            assertEquals(BAD.toString(), bumpFailed.path("labels").path("version").asText(), bumpFailed.toString());
            assertEquals("t3-reconciler", bumpFailed.path("labels").path("service").asText(), bumpFailed.toString());
            receiver.await(alert("T3RolledBack", "firing").and(fromRule()), WAIT, "T3RolledBack from the rule");
            receiver.await(alert("T3RolledBack", "firing").and(a -> BAD.toString().equals(a.path("labels").path("version").asText())), WAIT, "T3RolledBack from the controller");
            JsonNode frozen = receiver.await(alert("T3Frozen", "firing").and(fromRule()), WAIT, "T3Frozen: the breaker's self-freeze");
            assertEquals("file", frozen.path("labels").path("source").asText(), frozen.toString());
            JsonNode heldBack = receiver.await(alert("T3HeldBack", "firing").and(fromRule()), WAIT, "T3HeldBack: the channel moved, the controller did not");
            assertTrue(List.of("breaker", "freeze", "blocked").contains(heldBack.path("labels").path("reason").asText()), "held by the failed bump's gate: " + heldBack);

            // 3. Recovery: the operator unfreezes, a good build is on the channel, the controller follows it.
            int recover = d.mark();
            bed.publish(GOOD.toString(), "good", "nightly");
            assertEquals(Main.OK, Main.run("unfreeze", "-f", bed.spec.toString(), "--reason", "AlertsEndToEndIT: fixed"));
            d.signal("HUP");
            d.await(recover, DaemonProcess.ev("reconciled").and(n -> n.path("outcome").asText().equals("converged")), WAIT, "converged on " + GOOD);
            assertEquals(bed.dir.resolve("versions/" + GOOD + "/bin/t3"), Files.readSymbolicLink(bed.link()), "the link is on " + GOOD);
            receiver.await(alert("T3Frozen", "resolved").and(fromRule()), WAIT, "T3Frozen resolved after unfreeze");
            receiver.await(alert("T3HeldBack", "resolved").and(fromRule()), WAIT, "T3HeldBack resolved once the controller follows the channel");
            receiver.await(alert("T3RolledBack", "resolved").and(fromRule()), WAIT, "T3RolledBack resolved once the rollback is out of its window");
            // The controller's own alerts of the failed bump end with the breaker reset ('unfreeze'), with endsAt.
            receiver.await(alert("T3BumpFailed", "resolved").and(a -> BAD.toString().equals(a.path("labels").path("version").asText())), WAIT, "T3BumpFailed resolved by the controller on unfreeze");

            // 4. The dashboard: every panel's query returns data from this Prometheus.
            List<String> empty = new ArrayList<>();
            int queries = 0;
            for (JsonNode panel : JSON.readTree(Bed.repoRoot().resolve("docs/grafana/t3-reconciler.json").toFile()).path("panels")) {
                for (JsonNode target : panel.path("targets")) {
                    queries++;
                    String expr = target.path("expr").asText();
                    JsonNode result = query(expr);
                    if (result.size() == 0) empty.add(panel.path("title").asText() + ": " + expr);
                }
            }
            assertTrue(queries >= 10, "the dashboard has its panels: " + queries + " queries");
            assertEquals(List.of(), empty, "panel queries without data");
        }
    }

    /** A step of the daemon's log for this action. */
    static Predicate<JsonNode> step(String action) {
        return DaemonProcess.ev("step").and(n -> n.path("action").asText().equals(action));
    }

    /** Sent by a Prometheus rule (it carries the scrape job), not by the controller itself. */
    static Predicate<JsonNode> fromRule() {
        return a -> "t3-reconciler".equals(a.path("labels").path("job").asText());
    }

    /** An instant query; its result vector. */
    static JsonNode query(String expr) throws Exception {
        URI u = URI.create(stack.prometheus() + "/api/v1/query?query=" + URLEncoder.encode(expr, StandardCharsets.UTF_8));
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(u).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), expr + ": " + r.body());
        JsonNode body = JSON.readTree(r.body());
        assertEquals("success", body.path("status").asText(), expr + ": " + r.body());
        return body.path("data").path("result");
    }

    static void sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(bed.dir.resolve("bed.stderr.log").toFile())).start();
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + " failed; see " + bed.dir.resolve("bed.stderr.log"));
    }

    static String metricsAddress() throws Exception {
        Matcher m = Pattern.compile("(?m)^\\s*metrics: \"([^\"]+)\"").matcher(Files.readString(bed.spec));
        assertTrue(m.find(), "metrics address in the bed's spec");
        return m.group(1);
    }
}
