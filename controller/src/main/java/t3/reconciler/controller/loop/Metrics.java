package t3.reconciler.controller.loop;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import t3.reconciler.controller.plan.Action;
import t3.reconciler.model.BreakerState;
import t3.reconciler.model.ObservedState;
import t3.reconciler.model.UserState;
import t3.reconciler.model.Version;

/**
 * The controller's facts in Prometheus format (micrometer), served by {@link MetricsServer}. Alert rules in
 * docs/alerts/ read these names.
 */
public final class Metrics implements PassMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final AtomicReference<ObservedState> last = new AtomicReference<>();
    private final MultiGauge versions = MultiGauge.builder("t3r_version").description("1 for the installed, last-good and candidate versions").register(registry);
    private final MultiGauge unitVersions = MultiGauge.builder("t3r_unit_version").description("1 for the version each user's server runs").register(registry);
    private final MultiGauge unitBusy = MultiGauge.builder("t3r_unit_busy").description("1 when an agent is at work under the user's unit").register(registry);
    private final MultiGauge backupAge = MultiGauge.builder("t3r_backup_newest_age_seconds").description("age of each user's newest backup").register(registry);
    private final MultiGauge backupSize = MultiGauge.builder("t3r_backup_newest_size").baseUnit("bytes").description("size of each user's newest backup (the dashboard's backup size panel)").register(registry);
    private final MultiGauge heldBackGauge = MultiGauge.builder("t3r_held_back_since_timestamp_seconds")
            .description("since when the channel has a newer version we have not followed, labelled with the gate that holds it (reason); 0 with reason=\"none\" when we follow").register(registry);
    private final MultiGauge quarantined = MultiGauge.builder("t3r_user_quarantined").description("1 while a user is quarantined: their files were refused, the controller leaves them alone").register(registry);
    private final MultiGauge frozen = MultiGauge.builder("t3r_frozen").description("1 while bumps are frozen, by source: the freeze file or the desired-state file's freeze: true").register(registry);
    private final SpecHolder spec;
    private final HeldBack heldBack;
    private volatile double lastSuccess = 0, invalidSpec = 0;

    public Metrics(SpecHolder spec, HeldBack heldBack) {
        this.spec = spec;
        this.heldBack = heldBack;
        Gauge.builder("t3r_last_successful_reconcile_timestamp_seconds", () -> lastSuccess).register(registry);
        Gauge.builder("t3r_awaiting_approval", () -> awaitingApproval).description("1 while the last pass ended waiting for the operator's promote (canary.approval, canary.pauseAfter)").register(registry);
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
    private volatile double awaitingApproval;

    private void frozen() {
        ObservedState o = last.get();
        frozen.register(List.of(
                MultiGauge.Row.of(Tags.of("source", "file"), o != null && o.freezeFile().isPresent() ? 1 : 0),
                MultiGauge.Row.of(Tags.of("source", "spec"), spec.inForce().freeze() ? 1 : 0)), true);
    }

    @Override
    public void observed(ObservedState o, boolean specValid) {
        last.set(o);
        fleetGauges(spec.inForce().fleet().isPresent());
        invalidSpec = specValid ? 0 : 1;
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        o.installed().ifPresent(v -> rows.add(MultiGauge.Row.of(Tags.of("role", "installed", "version", v.toString()), 1)));
        o.lastGood().ifPresent(v -> rows.add(MultiGauge.Row.of(Tags.of("role", "last_good", "version", v.toString()), 1)));
        o.candidate().version().ifPresent(v -> rows.add(MultiGauge.Row.of(Tags.of("role", "candidate", "version", v.toString()), 1)));
        versions.register(rows, true);
        frozen();
        List<MultiGauge.Row<?>> uv = new ArrayList<>(), ub = new ArrayList<>(), ba = new ArrayList<>(), bs = new ArrayList<>();
        for (UserState u : o.users()) {
            uv.add(MultiGauge.Row.of(Tags.of("user", u.name(), "version", u.runningVersion().map(Version::toString).orElse("unknown"), "state", u.activeState()), 1));
            ub.add(MultiGauge.Row.of(Tags.of("user", u.name()), u.busy() ? 1 : 0));
            // A user with data and no backup at all is the stalest case: +Inf, so T3BackupStale fires for them too.
            if (u.newestBackup().isPresent()) ba.add(MultiGauge.Row.of(Tags.of("user", u.name()), Duration.between(u.newestBackup().get().takenAt(), o.now()).toSeconds()));
            else if (u.databaseExists()) ba.add(MultiGauge.Row.of(Tags.of("user", u.name()), Double.POSITIVE_INFINITY));
            u.newestBackup().ifPresent(b -> bs.add(MultiGauge.Row.of(Tags.of("user", u.name()), b.bytes())));
        }
        unitVersions.register(uv, true);
        unitBusy.register(ub, true);
        backupAge.register(ba, true);
        backupSize.register(bs, true);
        quarantined.register(o.users().stream().map(u -> MultiGauge.Row.of(Tags.of("user", u.name()), o.isQuarantined(u.name()) ? 1 : 0)).toList(), true);
    }

    /** Registered only while {@code fleet:} is set, so a host acting alone exports no fleet series (the alert rules read these names). */
    private List<Gauge> fleet = List.of();

    private synchronized void fleetGauges(boolean wanted) {
        if (wanted == !fleet.isEmpty()) return;
        if (!wanted) {
            fleet.forEach(registry::remove);
            fleet = List.of();
            return;
        }
        fleet = List.of(
                Gauge.builder("t3r_fleet_slot_held", () -> fleetFact(f -> f.selfHoldsSlot() ? 1 : 0))
                        .description("1 while this host holds one of its group's rollout slots (docs/fleet.md)").register(registry),
                Gauge.builder("t3r_fleet_blocked_versions", () -> fleetFact(f -> f.verdicts().size()))
                        .description("versions the fleet blocked (a verdict from any host), as of the last etcd read").register(registry),
                Gauge.builder("t3r_fleet_etcd_reachable", () -> fleetFact(f -> f.etcd() == t3.reconciler.model.fleet.EtcdHealth.QUORUM ? 1 : 0))
                        .description("1 while etcd answers with a quorum; 0 when unreachable or without one (no rollout starts)").register(registry));
    }

    /** From the last observation; 0 while the fleet was not observed (fail closed: unknown is not reachable). */
    private double fleetFact(java.util.function.ToDoubleFunction<t3.reconciler.model.fleet.FleetFacts> f) {
        ObservedState o = last.get();
        return o == null || o.fleet().isEmpty() ? 0 : f.applyAsDouble(o.fleet().get());
    }

    /**
     * One series: {@code reason} is the gate that ended the last pass while we are behind (so an alert can say which
     * gate keeps failing), "none" with value 0 when we follow. The timestamp does not move when the reason changes.
     */
    private void exportHeldBack() {
        heldBackGauge.register(List.of(heldBack.current()
                .map(e -> MultiGauge.Row.of(Tags.of("reason", e.reason()), e.since().getEpochSecond()))
                .orElse(MultiGauge.Row.of(Tags.of("reason", "none"), 0))), true);
    }

    @Override
    public void reconciled(Reconciler.Result r, Duration took, Instant at) {
        awaitingApproval = r.gate().filter(g -> g == t3.reconciler.controller.plan.Gate.AWAITING_APPROVAL).isPresent() ? 1 : 0;
        Timer.builder("t3r_reconcile_duration").tag("outcome", r.outcome().label()).register(registry).record(took);
        if (r.outcome() != t3.reconciler.controller.plan.PassOutcome.ERROR) lastSuccess = at.getEpochSecond();
    }

    @Override
    public void step(Action a, String outcome) {
        Counter.builder("t3r_steps_total").tag("action", a.name()).tag("outcome", outcome).register(registry).increment();
    }

    /** Read at each scrape: the held-back episode is the {@link HeldBack}'s, whoever fed it last. */
    public synchronized String scrape() {
        exportHeldBack();
        return registry.scrape();
    }
}
