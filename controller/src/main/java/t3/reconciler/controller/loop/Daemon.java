package t3.reconciler.controller.loop;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import t3.reconciler.controller.actuator.FleetPort;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.DesiredState;

/**
 * {@code run}: the long-running controller. One worker thread reconciles; trigger sources (the resync timer, a watch
 * of the desired-state, users and freeze files, signals) fire into one {@link Triggers}, which coalesces them into
 * the next pass. After a pass, {@link Requeue} arms the timer: the resync period, a hold's recheck, or a backoff with
 * jitter after an outage, never a hot loop. SIGTERM stops at the next step boundary, after finishing a rollback in
 * progress (see {@link Reconciler}).
 */
public final class Daemon {
    private final SpecHolder spec;
    private final StateStore store;
    private final Reconciler reconciler;
    /** Called once, when the daemon starts serving: a single pass builds no registry (see {@link PassMetrics}). */
    private final Supplier<Metrics> served;
    private volatile PassMetrics metrics = PassMetrics.NONE;
    private final HeldBack heldBack;
    private final HeldBackAlert heldBackAlert;
    private final Clock clock;
    private final Log log;
    private final Triggers triggers = new Triggers();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private Requeue requeue = new Requeue(Requeue.defaultBackoff());
    /** Empty: the real ones, built at start (signals are process-wide, so tests bring their own). */
    private Optional<ResyncTimer> timer = Optional.empty();
    private Optional<List<TriggerSource>> sources = Optional.empty();
    private volatile Consumer<Pass> onPass = p -> {};
    /** The sources started, told after each pass (before it is logged as ended) what the state in force now names. */
    private List<TriggerSource> active = List.of();
    /** The fleet port for a desired state (empty without {@code fleet:}); none at all: a daemon with no fleet wiring. */
    private Optional<Function<DesiredState, Optional<FleetPort>>> fleet = Optional.empty();

    /** What one pass was triggered by and how it ended. */
    public record Pass(Set<String> why, boolean windowOverride, Reconciler.Result result) {}

    /** With a registry already built (tests): it is recorded into only once {@link #run} starts the daemon, as below. */
    public Daemon(SpecHolder spec, StateStore store, Reconciler reconciler, Metrics metrics, HeldBack heldBack, Clock clock, Log log, Alerter alerter) {
        this(spec, store, reconciler, () -> metrics, heldBack, clock, log, alerter);
    }

    /** @param registry built when {@link #run} starts the daemon (not for {@code once}), recorded into and served from then on */
    public Daemon(SpecHolder spec, StateStore store, Reconciler reconciler, Supplier<Metrics> registry, HeldBack heldBack, Clock clock, Log log, Alerter alerter) {
        this.spec = spec;
        this.store = store;
        this.heldBack = heldBack;
        this.heldBackAlert = new HeldBackAlert(alerter);
        this.reconciler = reconciler.listener(new Reconciler.Listener() {
            @Override
            public void observed(t3.reconciler.model.ObservedState o) {
                heldBack.observed(o);
                metrics.observed(o, spec.lastEditValid());
            }

            @Override
            public void step(t3.reconciler.controller.plan.Action a, Outcome o) { metrics.step(a, o.label()); }
        });
        this.served = registry;
        this.clock = clock;
        this.log = log;
    }

    /** Instead of the real timer, file watch and signals (tests: a timer they fire by hand, no process-wide handlers). */
    public Daemon sources(ResyncTimer timer, List<TriggerSource> others) {
        this.timer = Optional.of(timer);
        this.sources = Optional.of(List.copyOf(others));
        return this;
    }

    /**
     * The fleet port in force for a desired state (the live actuators' own): its watch becomes a trigger source, and at
     * start a slot this host held under an earlier lease is released unless a rollout is in flight.
     */
    public Daemon fleet(Function<DesiredState, Optional<FleetPort>> ports) {
        this.fleet = Optional.of(ports);
        return this;
    }

    public Daemon requeue(Requeue r) {
        this.requeue = r;
        return this;
    }

    /** Told after every pass, on the worker thread. */
    public Daemon onPass(Consumer<Pass> l) {
        this.onPass = l;
        return this;
    }

    public Triggers triggers() { return triggers; }

    /** Runs until SIGTERM (or {@link #stop()}); {@code once}: a single pass, then return its outcome. */
    public Reconciler.Result run(boolean once, boolean windowOverride) throws IOException, InterruptedException {
        DesiredState s = spec.current();
        // A single pass acts as much as the daemon does: it takes the same lock, so it never runs beside one.
        try (DaemonLock lock = DaemonLock.acquire(s)) {
            if (once) return pass(Set.of("run --once"), windowOverride);
            return runLocked(s, lock);
        }
    }

    /** Holding the lock: only now is the pid file ours to write and, on the way out, to remove. */
    private Reconciler.Result runLocked(DesiredState s, DaemonLock lock) throws IOException, InterruptedException {
        ResyncTimer t = timer.orElseGet(ScheduledResyncTimer::new);
        List<TriggerSource> all = new ArrayList<>();
        all.add(t);
        all.addAll(sources.orElseGet(() -> List.of(new FileWatchSource(spec.file(), spec.inForce(), log), new SignalSource(spec::inForce, this, log))));
        fleet.ifPresent(f -> all.add(new FleetTriggerSource(() -> f.apply(spec.inForce()))));
        fleet.ifPresent(f -> releaseStaleSlot(f.apply(s)));
        Metrics registry = served.get();
        metrics = registry;
        try (MetricsServer server = MetricsServer.serve(s.controller().metricsAddress(), registry::scrape)) {
            for (TriggerSource src : all) src.start(triggers);
            active = all;
            // Written once SIGHUP is handled: whoever finds the pid may signal it.
            lock.writePid(s.controller().pidFile());
            log.info("started", Log.kv("pid", ProcessHandle.current().pid(), "spec", spec.file(), "stateDb", s.controller().stateDb(),
                    "metrics", s.controller().metricsAddress().equals("off") ? "off" : "http://" + s.controller().metricsAddress() + "/metrics"));
            loop(t);
            return Reconciler.Result.interrupted();
        } finally {
            for (TriggerSource src : all) src.close();
            // Here, not only when the live actuators close: after a SIGTERM the JVM exits once this method is done (the
            // shutdown hook waits for no more), and a clean stop must revoke the lease so the slot goes at once.
            fleet.ifPresent(f -> f.apply(spec.inForce()).ifPresent(FleetPort::close));
            lock.removePid();
            stopped.countDown(); // the shutdown hook lets the JVM exit from here: the pid file is gone already

        }
    }

    /**
     * Zincati's release at start: a slot this host held under an earlier lease (a controller that died) is freed, so a
     * dead host does not keep a slot for a whole TTL after it came back. Not with a rollout in flight: the next pass
     * takes that slot over under the new lease instead (the rollout still needs it).
     */
    private void releaseStaleSlot(Optional<FleetPort> port) {
        if (port.isEmpty()) return;
        if (store.rollout().isPresent()) {
            log.info("fleet-slot", Log.kv("outcome", "kept", "reason", "a rollout is in flight: a slot held under an earlier lease is taken over, not released"));
            return;
        }
        try {
            port.get().releaseStale();
        } catch (t3.reconciler.controller.actuator.ActuatorException e) {
            // etcd away at start: the old lease's TTL frees the slot anyway.
            log.warn("fleet-slot", Log.kv("outcome", "failed", "reason", "could not release a slot held under an earlier lease: " + e.getMessage()));
        }
    }

    private void loop(ResyncTimer timer) throws InterruptedException {
        Set<String> why = Set.of("start");
        boolean override = false;
        while (!stopping.get()) {
            Reconciler.Result r = pass(why, override);
            onPass.accept(new Pass(why, override, r));
            Requeue.Wait w = requeue.after(r, spec.inForce().schedule().resync());
            if (w.backingOff()) {
                log.warn("requeue", Log.kv("after", w.after(), "attempt", w.attempt(), "reason", "transient fault: " + r.error().or(() -> r.last().map(d -> d.reason())).orElse("?")));
            }
            if (stopping.get()) break;
            timer.arm(w.after(), w.reason());
            Triggers.Fired f = triggers.await();
            why = f.reasons();
            override = f.windowOverride();
        }
    }

    private Reconciler.Result pass(Set<String> why, boolean override) {
        Instant start = clock.instant();
        // With last-reconcile, lets 'reconcile --wait' tell a pass that started after its SIGHUP from one already running.
        store.reconcileStarted(start);
        if (override) store.event(start, "window-override", "-", "ok", "the operator asked for a bump outside the maintenance window");
        log.info("reconcile", Log.kv("trigger", String.join(",", why), "windowOverride", override ? "true" : null));
        Reconciler.Result r = reconciler.reconcile(spec::current, override, stopping::get);
        Instant end = clock.instant();
        heldBack.reconciled(r);
        metrics.reconciled(r, Duration.between(start, end), end);
        String summary = r.summary();
        store.reconcileEnded(end, r.outcome(), r.gate(), r.steps(), summary);
        // Before "reconciled" is logged: whoever saw an edit applied may rely on the watch having moved with it.
        for (TriggerSource src : active) src.afterPass(spec.inForce());
        String restart = String.join(",", spec.restartNeeded());
        if (!store.get(RESTART_NEEDED).orElse("").equals(restart)) store.put(RESTART_NEEDED, restart);
        log.info("reconciled", Log.kv("outcome", r.outcome().label(), "steps", r.steps(), "tookMs", Duration.between(start, end).toMillis(), "reason", summary));
        heldBackAlert.check(heldBack.current(), spec.inForce().alerts().heldBackAfter(), end);
        return r;
    }

    /** The store key 'status' reads: the edited keys ({@link RestartKeys}) this running controller has not applied. */
    public static final String RESTART_NEEDED = "restart-needed";

    public void stop() {
        stopping.set(true);
        triggers.fire("stop");
    }

    /** @return whether the loop ended (and its pid file went) within {@code d} */
    public boolean awaitStopped(Duration d) {
        try {
            return stopped.await(d.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public static Path lockFileOf(DesiredState s) { return s.controller().stateDb().resolveSibling(s.controller().stateDb().getFileName() + ".lock"); }

    /** Written by {@code reconcile --outside-window} before it sends SIGHUP; consumed by the handler, so it counts once. */
    public static Path overrideFileOf(DesiredState s) { return s.controller().stateDb().resolveSibling("window-override"); }
}
