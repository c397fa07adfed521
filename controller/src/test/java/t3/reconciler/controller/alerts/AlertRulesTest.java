package t3.reconciler.controller.alerts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Prometheus alert rules in docs/alerts/ are valid ({@code promtool check rules}) and behave as their unit tests
 * say ({@code promtool test rules}). promtool is found as -Dpromtool=..., $PROMTOOL, on the PATH, or where .ci/run
 * extracts it (.ci/cache/prometheus/usr/bin/promtool); Debian ships it in the prometheus package.
 */
class AlertRulesTest {
    private static Path alerts;
    private static String promtool;

    @BeforeAll
    static void locate() {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("docs/alerts"))) dir = dir.getParent();
        assertNotNull(dir, "no docs/alerts above " + System.getProperty("user.dir"));
        alerts = dir.resolve("docs/alerts");
        promtool = findPromtool(dir);
        assertNotNull(promtool, "promtool not found (-Dpromtool, $PROMTOOL, PATH, .ci/cache): run .ci/run, or apt-get install prometheus");
    }

    private static String findPromtool(Path root) {
        List<String> candidates = new ArrayList<>();
        if (System.getProperty("promtool") != null) candidates.add(System.getProperty("promtool"));
        if (System.getenv("PROMTOOL") != null) candidates.add(System.getenv("PROMTOOL"));
        for (String p : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!p.isEmpty()) candidates.add(Path.of(p, "promtool").toString());
        }
        candidates.add(root.resolve(".ci/cache/prometheus/usr/bin/promtool").toString());
        return candidates.stream().filter(c -> Files.isExecutable(Path.of(c))).findFirst().orElse(null);
    }

    private static void promtool(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(promtool));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(alerts.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), String.join(" ", cmd) + " did not finish");
        assertEquals(0, p.exitValue(), () -> "in " + alerts + ": " + String.join(" ", cmd) + "\n" + new String(out, StandardCharsets.UTF_8));
    }

    @Test
    void rulesAreValid() throws Exception {
        promtool("check", "rules", "t3-reconciler.rules.yml");
    }

    @Test
    void rulesPassTheirUnitTests() throws Exception {
        promtool("test", "rules", "t3-reconciler.tests.yml");
    }
}
