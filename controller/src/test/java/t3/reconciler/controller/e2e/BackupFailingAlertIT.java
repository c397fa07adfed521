package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.File;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import t3.reconciler.controller.store.Event;
import t3.reconciler.controller.store.StateStore;

/**
 * Issue 13, defect 4: T3BackupFailing watches {@code t3r_steps_total{action="backup",outcome="failed"}}, which the
 * controller never exported while a failed backup was thrown past its step. Here a real daemon on the bed backs up
 * into a full tmpfs: its backup must be a failed step on record (event, metric), the user not quarantined (it is
 * the disk, not their files), and the rule, fed exactly the samples scraped from it and from a healthy daemon of the
 * same bed, fires for the failing one only ({@code promtool test rules}).
 */
class BackupFailingAlertIT {
    static final String USER = "t3st-bf1";
    static final Duration PASS = Duration.ofSeconds(180);
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static Bed bed;
    static Path fullDisk;

    @BeforeAll
    static void up() throws Exception {
        bed = Bed.fresh(USER);
    }

    @AfterAll
    static void down() throws Exception {
        try {
            if (fullDisk != null) sh("umount", "-l", fullDisk.toString());
        } finally {
            if (bed != null) bed.close();
        }
    }

    @Test
    void aBackupIntoAFullDiskIsAFailedStepOnTheMetricsAndT3BackupFailingFiresOnThem() throws Exception {
        Scrape healthy;
        try (DaemonProcess d = DaemonProcess.start(bed.spec, Map.of())) {
            JsonNode done = d.await(0, DaemonProcess.ev("reconciled"), PASS, "the healthy daemon's first pass");
            assertEquals("converged", done.path("outcome").asText(), done + "\n" + d.tail());
            healthy = Scrape.parse(DaemonProcess.scrape(bed.spec));
        }
        assertEquals(Optional.of("1.0"), healthy.value("t3r_steps_total", "action=\"backup\",outcome=\"ok\""), "the healthy daemon took its daily backup: " + healthy);
        assertEquals(Optional.empty(), healthy.value("t3r_steps_total", "action=\"backup\",outcome=\"failed\""));

        fullDisk = bed.dir.resolve("fullbackups");
        Files.createDirectories(fullDisk);
        sh("mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "t3st-full", fullDisk.toString());
        fill(fullDisk.resolve("filler"));
        Path spec = bed.dir.resolve("desired-state-full.yaml");
        String text = Files.readString(bed.spec);
        String full = text.replaceAll("(?m)^backup: \\{dir: [^,]*,", "backup: {dir: " + fullDisk + ",");
        assertTrue(!full.equals(text), "the bed's spec has a backup: {dir: ...} line to point at the full disk:\n" + text);
        Files.writeString(spec, full);

        Scrape failing;
        try (DaemonProcess d = DaemonProcess.start(spec, Map.of())) {
            JsonNode step = d.await(0, DaemonProcess.ev("step").and(n -> n.path("action").asText().equals("backup")), PASS, "the daily backup into the full disk");
            assertEquals("failed", step.path("outcome").asText(), "a failed step, not a fault thrown past it: " + step);
            assertTrue(step.path("detail").asText().contains("full"), "says the disk is full: " + step);
            JsonNode done = d.await(0, DaemonProcess.ev("reconciled"), PASS, "the pass with the failed backup ends");
            assertEquals("error", done.path("outcome").asText(), "the pass ends as a fault, retried with backoff: " + done);
            failing = Scrape.parse(DaemonProcess.scrape(spec));
        }
        assertEquals(Optional.of("1.0"), failing.value("t3r_steps_total", "action=\"backup\",outcome=\"failed\""), "the failed backup is counted: " + failing);
        assertEquals(Optional.of("0.0"), failing.value("t3r_user_quarantined", "user=\"" + USER + "\""), "a full backup disk is not the user's fault: " + failing);
        try (StateStore store = StateStore.open(bed.stateDb())) {
            Event e = store.events(Optional.empty(), 100).stream().filter(x -> x.action().equals("backup")).reduce((a, b) -> b).orElseThrow();
            assertEquals("failed", e.outcome(), e.toString());
            assertTrue(store.quarantined().isEmpty(), "nobody quarantined: " + store.quarantined());
        }

        promtoolTest(healthy, failing);
    }

    /**
     * Both scrapes as promtool input series, each sample held from minute 10 on (absent before: the controller had
     * just started, so its counters are new series), and the rule evaluated at minute 15.
     */
    private static void promtoolTest(Scrape healthy, Scrape failing) throws Exception {
        Path rules = Bed.repoRoot().resolve("docs/alerts/t3-reconciler.rules.yml");
        JsonNode rule = null;
        for (JsonNode r : YAML.readTree(rules.toFile()).path("groups").get(0).path("rules")) if (r.path("alert").asText().equals("T3BackupFailing")) rule = r;
        assertNotNull(rule, "T3BackupFailing in " + rules);

        List<Map<String, String>> series = new ArrayList<>();
        for (Scrape.Sample s : healthy.samples()) series.add(Map.of("series", s.series("t3-reconciler", "healthy:9464"), "values", heldFromMinute10(s.value())));
        for (Scrape.Sample s : failing.samples()) series.add(Map.of("series", s.series("t3-reconciler", "failing:9464"), "values", heldFromMinute10(s.value())));
        Map<String, Object> fires = new LinkedHashMap<>();
        fires.put("exp_labels", Map.of("severity", rule.path("labels").path("severity").asText(), "job", "t3-reconciler", "instance", "failing:9464"));
        fires.put("exp_annotations", YAML.convertValue(rule.path("annotations"), Map.class));
        Map<String, Object> test = new LinkedHashMap<>();
        test.put("interval", "1m");
        test.put("input_series", series);
        test.put("alert_rule_test", List.of(
                Map.of("eval_time", "5m", "alertname", "T3BackupFailing", "exp_alerts", List.of()),
                Map.of("eval_time", "15m", "alertname", "T3BackupFailing", "exp_alerts", List.of(fires)),
                Map.of("eval_time", "15m", "alertname", "T3UserQuarantined", "exp_alerts", List.of())));
        Map<String, Object> file = new LinkedHashMap<>();
        file.put("rule_files", List.of(rules.toString()));
        file.put("evaluation_interval", "1m");
        file.put("tests", List.of(test));
        Path tests = bed.dir.resolve("scraped.tests.yml");
        YAML.writeValue(tests.toFile(), file);

        Process p = new ProcessBuilder(promtool(), "test", "rules", tests.toString()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "promtool test rules did not finish");
        assertEquals(0, p.exitValue(), "promtool test rules " + tests + ":\n" + out);
    }

    /**
     * Absent for minutes 0-9, then the scraped value for an hour. promtool's "v x n" shorthand takes numbers only; a
     * non-finite value (the age of a backup that does not exist is +Inf) is written out, in its own spelling.
     */
    static String heldFromMinute10(String value) {
        String nonFinite = switch (value) {
            case "+Inf", "Inf" -> "Inf";
            case "-Inf" -> "-Inf";
            case "NaN" -> "NaN";
            default -> null;
        };
        if (nonFinite != null) return "_x9 " + String.join(" ", java.util.Collections.nCopies(61, nonFinite));
        Double.parseDouble(value); // a number, else the scrape is not what the exporter writes: fail here, not in promtool
        return "_x9 " + value + "x60";
    }

    /** As AlertRulesTest finds it: -Dpromtool, $PROMTOOL, the PATH, or where .ci/run extracts it. */
    static String promtool() {
        List<String> candidates = new ArrayList<>();
        if (System.getProperty("promtool") != null) candidates.add(System.getProperty("promtool"));
        if (System.getenv("PROMTOOL") != null) candidates.add(System.getenv("PROMTOOL"));
        for (String p : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) if (!p.isEmpty()) candidates.add(Path.of(p, "promtool").toString());
        candidates.add(Bed.repoRoot().resolve(".ci/cache/prometheus/usr/bin/promtool").toString());
        return candidates.stream().filter(c -> Files.isExecutable(Path.of(c))).findFirst()
                .orElseThrow(() -> new AssertionError("promtool not found (-Dpromtool, $PROMTOOL, PATH, .ci/cache): apt-get install prometheus"));
    }

    static void fill(Path file) throws Exception {
        byte[] chunk = new byte[1 << 16];
        try (OutputStream out = Files.newOutputStream(file)) {
            while (true) out.write(chunk);
        } catch (java.io.IOException e) {
            if (!String.valueOf(e.getMessage()).contains("space")) throw e; // ENOSPC is the point
        }
    }

    static void sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(bed.dir.resolve("bed.stderr.log").toFile())).start();
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + " failed; see " + bed.dir.resolve("bed.stderr.log"));
    }
}
