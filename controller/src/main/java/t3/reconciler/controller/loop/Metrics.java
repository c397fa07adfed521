package t3.reconciler.controller.loop;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import t3.reconciler.controller.plan.Action;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.BreakerState;
import t3.reconciler.model.ObservedState;
import t3.reconciler.model.UserState;
import t3.reconciler.model.Version;

/**
 * The controller's facts in Prometheus format (micrometer), served on a loopback address by default. Alert rules in
 * docs/alerts/ read these names.
 */
public final class Metrics implements AutoCloseable {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final AtomicReference<ObservedState> last = new AtomicReference<>();
    private final MultiGauge versions = MultiGauge.builder("t3r_version").description("1 for the installed, last-good and candidate versions").register(registry);
    private final MultiGauge unitVersions = MultiGauge.builder("t3r_unit_version").description("1 for the version each user's server runs").register(registry);
    private final MultiGauge unitBusy = MultiGauge.builder("t3r_unit_busy").description("1 when an agent is at work under the user's unit").register(registry);
    private final MultiGauge backupAge = MultiGauge.builder("t3r_backup_newest_age_seconds").description("age of each user's newest backup").register(registry);
    static final String HELD_BACK_KEY = "held-back-since";
    private final MultiGauge heldBackGauge = MultiGauge.builder("t3r_held_back_since_timestamp_seconds")
            .description("since when the channel has a newer version we have not followed, labelled with the gate that holds it (reason); 0 with reason=\"none\" when we follow").register(registry);
    private final MultiGauge quarantined = MultiGauge.builder("t3r_user_quarantined").description("1 while a user is quarantined: their files were refused, the controller leaves them alone").register(registry);
    private final MultiGauge frozen = MultiGauge.builder("t3r_frozen").description("1 while bumps are frozen, by source: the freeze file or the desired-state file's freeze: true").register(registry);
    private final SpecHolder spec;
    private volatile double lastSuccess = 0, heldBackSince = 0, invalidSpec = 0;
    /** The gate that ended the last pass (a hold's gate, "error", ...): why we are behind, if we are. */
    private volatile String heldBackReason = "pending";
    /** Where "held back since" survives a restart (a controller restarted daily must not restart the clock daily). */
    private volatile StateStore persist;

    /** How long, and why, we have not followed the channel. */
    public record HeldBack(Instant since, String reason) {}
    private HttpServer server;

    public Metrics(SpecHolder spec) {
        this.spec = spec;
        Gauge.builder("t3r_last_successful_reconcile_timestamp_seconds", () -> lastSuccess).register(registry);
        Gauge.builder("t3r_breaker_open", () -> breaker(BreakerState.Status.OPEN)).description("1 while the circuit breaker is open (self-freeze)").register(registry);
        Gauge.builder("t3r_rollback_failed", () -> breaker(BreakerState.Status.ROLLBACK_FAILED)).description("1 when the last-good version could not be put back").register(registry);
        frozen();
        Gauge.builder("t3r_desired_state_valid", () -> invalidSpec == 0 ? 1 : 0).description("0 while the last edit of the desired-state file is invalid").register(registry);
        Gauge.builder("t3r_desired_state_invalid_edits", spec, s -> s.invalidEdits()).register(registry);
        exportHeldBack();
    }

    private double breaker(BreakerState.Status s) {
        ObservedState o = last.get();
        return o != null && o.breaker().status() == s ? 1 : 0;
    }

    /**
     * Two series, each 0 or 1: {@code source="file"} while the freeze file exists (the operator's, or the self-freeze
     * of a breaker under policy freeze), {@code source="spec"} while the desired-state file says {@code freeze: true}.
     * An open breaker under policy backoff has its own metric, t3r_breaker_open.
     */
    private void frozen() {
        ObservedState o = last.get();
        frozen.register(List.of(
                MultiGauge.Row.of(Tags.of("source", "file"), o != null && o.freezeFile().isPresent() ? 1 : 0),
                MultiGauge.Row.of(Tags.of("source", "spec"), spec.inForce().freeze() ? 1 : 0)), true);
    }

    public void observed(ObservedState o, boolean specValid) {
        last.set(o);
        invalidSpec = specValid ? 0 : 1;
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        o.installed().ifPresent(v -> rows.add(MultiGauge.Row.of(Tags.of("role", "installed", "version", v.toString()), 1)));
        o.lastGood().ifPresent(v -> rows.add(MultiGauge.Row.of(Tags.of("role", "last_good", "version", v.toString()), 1)));
        o.candidate().version().ifPresent(v -> rows.add(MultiGauge.Row.of(Tags.of("role", "candidate", "version", v.toString()), 1)));
        versions.register(rows, true);
        frozen();
        List<MultiGauge.Row<?>> uv = new ArrayList<>(), ub = new ArrayList<>(), ba = new ArrayList<>();
        for (UserState u : o.users()) {
            uv.add(MultiGauge.Row.of(Tags.of("user", u.name(), "version", u.runningVersion().map(Version::toString).orElse("unknown"), "state", u.activeState()), 1));
            ub.add(MultiGauge.Row.of(Tags.of("user", u.name()), u.busy() ? 1 : 0));
            // A user with data and no backup at all is the stalest case: +Inf, so T3BackupStale fires for them too.
            if (u.newestBackup().isPresent()) ba.add(MultiGauge.Row.of(Tags.of("user", u.name()), Duration.between(u.newestBackup().get().takenAt(), o.now()).toSeconds()));
            else if (u.databaseExists()) ba.add(MultiGauge.Row.of(Tags.of("user", u.name()), Double.POSITIVE_INFINITY));
        }
        unitVersions.register(uv, true);
        unitBusy.register(ub, true);
        backupAge.register(ba, true);
        quarantined.register(o.users().stream().map(u -> MultiGauge.Row.of(Tags.of("user", u.name()), o.isQuarantined(u.name()) ? 1 : 0)).toList(), true);
        boolean behind = o.candidate().version().isPresent() && o.installed().map(i -> o.candidate().version().get().isNewerThan(i)).orElse(true);
        double was = heldBackSince;
        if (!behind) heldBackSince = 0;
        else if (heldBackSince == 0) heldBackSince = o.now().getEpochSecond();
        if (was != heldBackSince && persist != null) persist.put(HELD_BACK_KEY, Long.toString((long) heldBackSince));
        exportHeldBack();
    }

    /**
     * One series: {@code reason} is the gate that ended the last pass while we are behind (so an alert can say which
     * gate keeps failing), "none" with value 0 when we follow. The timestamp does not move when the reason changes.
     */
    private void exportHeldBack() {
        heldBackGauge.register(List.of(heldBackSince == 0
                ? MultiGauge.Row.of(Tags.of("reason", "none"), 0)
                : MultiGauge.Row.of(Tags.of("reason", heldBackReason), heldBackSince)), true);
    }

    /** Why a pass left us where we are: the hold's gate; a failed pass is "error", an interrupted one "in-progress"; converged behind the channel can only be a pin. */
    static String reasonOf(Reconciler.Result r) {
        if (r.gate().isPresent()) return r.gate().get().label();
        return switch (r.outcome()) {
            case ERROR -> "error";
            case CONVERGED -> "pin";
            case HELD, INTERRUPTED -> "in-progress";
        };
    }

    public void reconciled(Reconciler.Result r, Duration took, Instant at) {
        heldBackReason = reasonOf(r);
        exportHeldBack();
        Timer.builder("t3r_reconcile_duration").tag("outcome", r.outcome().label()).register(registry).record(took);
        if (r.outcome() != t3.reconciler.controller.plan.PassOutcome.ERROR) lastSuccess = at.getEpochSecond();
    }

    public void step(Action a, boolean ok) {
        Counter.builder("t3r_steps_total").tag("action", a.name()).tag("outcome", ok ? "ok" : "failed").register(registry).increment();
    }

    /** Keeps "held back since" in the state store, and starts from what a previous run recorded there. */
    public Metrics persistIn(StateStore store) {
        store.get(HELD_BACK_KEY).ifPresent(v -> {
            try {
                heldBackSince = Long.parseLong(v.strip());
            } catch (NumberFormatException e) {
                heldBackSince = 0; // unreadable: start the clock again rather than refuse to start
            }
        });
        persist = store;
        exportHeldBack();
        return this;
    }

    public Optional<HeldBack> heldBack() {
        return heldBackSince == 0 ? Optional.empty() : Optional.of(new HeldBack(Instant.ofEpochSecond((long) heldBackSince), heldBackReason));
    }

    public String scrape() { return registry.scrape(); }

    /** Exchanges at once: a scrape takes milliseconds, so a few threads serve any number of Prometheus servers. */
    static final int THREADS = 4;
    /** The longest one exchange may take, request and response: a scrape needs a fraction of it. */
    static final Duration EXCHANGE_DEADLINE = Duration.ofSeconds(10);

    static {
        // The JDK server's own limits on reading a request and writing a response; it reads them once, when its
        // ServerConfig class loads, so they are set before the first server is made. MetricsExecutor enforces the
        // same deadline whether or not another HttpServer in this JVM loaded that class first.
        System.getProperties().putIfAbsent("sun.net.httpserver.maxReqTime", Long.toString(EXCHANGE_DEADLINE.toSeconds()));
        System.getProperties().putIfAbsent("sun.net.httpserver.maxRspTime", Long.toString(EXCHANGE_DEADLINE.toSeconds()));
    }

    private MetricsExecutor executor;

    /** {@code host:port}; binds where told, loopback unless the operator wrote another address. */
    public void serve(String address) throws IOException {
        if ("off".equals(address)) return;
        int colon = address.lastIndexOf(':');
        server = HttpServer.create(new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))), 16);
        // Not the default (the accepting thread itself): there, one client that sends half a request stops every scrape.
        executor = new MetricsExecutor(THREADS, EXCHANGE_DEADLINE);
        server.setExecutor(executor);
        server.createContext("/metrics", ex -> {
            byte[] body = scrape().getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream os = ex.getResponseBody()) {
                os.write(body);
            }
        });
        server.start();
    }

    public int port() { return server == null ? -1 : server.getAddress().getPort(); }

    @Override
    public void close() {
        if (server != null) server.stop(0);
        if (executor != null) executor.close();
    }
}
