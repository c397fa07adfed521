package t3.reconciler.controller.e2e;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Alertmanager (every alert its own group, sent at once, resolved ones too, to an {@link AlertReceiver}) and, when a
 * scrape target is given, Prometheus scraping it every second and evaluating a rules file every second. Both are the
 * Debian binaries, on loopback, with their state under {@code dir}; no service is installed or enabled.
 */
final class AlertStack implements AutoCloseable {
    static final Duration START = Duration.ofSeconds(60);
    final AlertReceiver receiver;
    final URI alertmanager;
    private final ServerProcess am;
    private ServerProcess prometheus;
    private URI prometheusUrl;

    private AlertStack(AlertReceiver receiver, URI alertmanager, ServerProcess am) {
        this.receiver = receiver;
        this.alertmanager = alertmanager;
        this.am = am;
    }

    static AlertStack alertmanager(Path dir) throws Exception {
        Files.createDirectories(dir);
        AlertReceiver receiver = new AlertReceiver();
        int port = ServerProcess.freePort();
        Path config = Files.writeString(dir.resolve("alertmanager.yml"), """
                route:
                  receiver: test
                  group_by: ['...']
                  group_wait: 0s
                  group_interval: 1s
                  repeat_interval: 1h
                receivers:
                  - name: test
                    webhook_configs:
                      - url: %s
                        send_resolved: true
                """.formatted(receiver.url()));
        ServerProcess am = ServerProcess.start(dir.resolve("alertmanager.log"), List.of(
                ServerProcess.binary("alertmanager", "ALERTMANAGER", "prometheus-alertmanager"),
                "--config.file=" + config, "--storage.path=" + dir.resolve("alertmanager-data"),
                "--web.listen-address=127.0.0.1:" + port, "--cluster.listen-address="));
        am.awaitLog(Pattern.compile("Listening on"), START);
        return new AlertStack(receiver, URI.create("http://127.0.0.1:" + port), am);
    }

    /** Prometheus scraping {@code target} (host:port) as job t3-reconciler, evaluating {@code rules}, alerting here. */
    AlertStack withPrometheus(Path dir, String target, Path rules) throws Exception {
        int port = ServerProcess.freePort();
        Path config = Files.writeString(dir.resolve("prometheus.yml"), """
                global: {scrape_interval: 1s, evaluation_interval: 1s}
                rule_files: ['%s']
                alerting:
                  alertmanagers:
                    - static_configs: [{targets: ['%s']}]
                scrape_configs:
                  - job_name: t3-reconciler
                    static_configs: [{targets: ['%s']}]
                """.formatted(rules, alertmanager.getAuthority(), target));
        prometheus = ServerProcess.start(dir.resolve("prometheus.log"), List.of(
                ServerProcess.binary("prometheus", "PROMETHEUS", "prometheus"),
                "--config.file=" + config, "--storage.tsdb.path=" + dir.resolve("prometheus-data"),
                "--web.listen-address=127.0.0.1:" + port, "--rules.alert.resend-delay=1s"));
        prometheus.awaitLog(Pattern.compile("Server is ready to receive web requests"), START);
        prometheusUrl = URI.create("http://127.0.0.1:" + port);
        return this;
    }

    URI prometheus() { return prometheusUrl; }

    @Override
    public void close() throws Exception {
        try {
            if (prometheus != null) prometheus.close();
            am.close();
        } finally {
            receiver.close();
        }
    }
}
