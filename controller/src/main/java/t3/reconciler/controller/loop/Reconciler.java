package t3.reconciler.controller.loop;

import t3.reconciler.controller.crash.CrashPoints;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.plan.Action;
import t3.reconciler.controller.plan.Decision;
import t3.reconciler.controller.plan.Gate;
import t3.reconciler.controller.plan.PassOutcome;
import t3.reconciler.controller.store.LastDecision;
import t3.reconciler.controller.plan.Planner;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.ObservedState;

/**
 * One reconcile pass, controller-runtime style: observe → plan → execute one step → record → re-observe, until the
 * planner says converged or holds. The desired state is re-read between steps (an edit is picked up at the next
 * step boundary, never in the middle of one).
 */
public final class Reconciler {
    /** A pass never runs away: a plan that does not converge in this many steps is a bug, reported as such. */
    static final int MAX_STEPS = 200;
    /** How long a stop request waits for a rollback in progress to finish (the unit's TimeoutStopSec is 5 min). */
    static final Duration STOP_BUDGET = Duration.ofMinutes(4);

    private final Function<DesiredState, Actuators> io;
    private final Alerter alerter;
    private final CrashPoints crash;
    /** The parts for the actuators last handed out: rebuilt only when {@link #io} returns other ones. */
    private Actuators built;
    private Observer observer;
    private Executor executor;
    private Recovery recovery;
    private final StateStore store;
    private final Clock clock;
    private final Log log;
    private volatile Listener listener = new Listener() {};
    private LastDecision lastLogged;
    /** The channel's answer for this pass; null until asked, and again when a pass starts or the actuators change. */
    private ChannelAnswer channel;
    private Instant stopSeen;
    private final StatusPublisher status;
    /** The last observation of the pass running (or just ended): what the fleet status is made of. */
    private ObservedState lastObserved;

    /** What the metrics see of a pass. */
    public interface Listener {
        default void observed(ObservedState o) {}

        default void step(Action a, Outcome o) {}
    }

    public Reconciler listener(Listener l) {
        this.listener = l;
        return this;
    }

    public Reconciler(Actuators io, StateStore store, Clock clock, Log log, Alerter alerter, CrashPoints crash) {
        this(s -> io, store, clock, log, alerter, crash);
    }

    /** @param io the actuators for a desired state, asked at every step boundary so an edit acts at the next step */
    public Reconciler(Function<DesiredState, Actuators> io, StateStore store, Clock clock, Log log, Alerter alerter, CrashPoints crash) {
        this.io = io;
        this.alerter = alerter;
        this.crash = crash;
        this.store = store;
        this.clock = clock;
        this.log = log;
        this.status = new StatusPublisher(log);
    }

    private void wire(DesiredState s) {
        Actuators a = io.apply(s);
        if (a == built) return;
        built = a;
        channel = null;
        observer = new Observer(a, store, clock);
        executor = new Executor(a, store, clock, alerter, crash);
        recovery = new Recovery(a, store, clock, log);
    }

    /**
     * @param outcome   how the pass ended
     * @param requeue   when to look again without a trigger (a hold's recheck); empty: the next resync
     */
    public record Result(PassOutcome outcome, Optional<Decision> last, Optional<Duration> requeue, int steps, Optional<String> error) {
        public boolean transientFault() {
            return outcome == PassOutcome.ERROR || last.map(d -> d.action() instanceof Action.Hold h && h.transientFault()).orElse(false);
        }

        /** The gate of a held pass. */
        public Optional<Gate> gate() {
            if (outcome != PassOutcome.HELD) return Optional.empty();
            return last.map(Decision::action).filter(a -> a instanceof Action.Hold).map(a -> ((Action.Hold) a).gate());
        }

        /** For people: {@code <outcome> after <n> step(s): <reason> (<error>)}. */
        public String summary() {
            return outcome.label() + " after " + steps + " step(s)" + last.map(d -> ": " + d.reason()).orElse("") + error.map(e -> " (" + e + ")").orElse("");
        }

        public static Result interrupted() { return new Result(PassOutcome.INTERRUPTED, Optional.empty(), Optional.empty(), 0, Optional.empty()); }
    }

    public Result reconcile(Supplier<DesiredState> spec, boolean windowOverride, BooleanSupplier stop) {
        lastObserved = null;
        Result r = pass(spec, windowOverride, stop);
        if (built != null) {
            // Half the resync period: a daemon's resync pass always finds the heartbeat due.
            Duration refresh = spec.get().schedule().resync().dividedBy(2);
            status.afterPass(built.fleet(), lastObserved, r.outcome(), r.gate(), refresh);
        }
        return r;
    }

    private Result pass(Supplier<DesiredState> spec, boolean windowOverride, BooleanSupplier stop) {
        int steps = 0;
        Optional<Decision> last = Optional.empty();
        try {
            channel = null;
            DesiredState first = spec.get();
            wire(first);
            recovery.resolve(first);
            while (steps < MAX_STEPS) {
                DesiredState s = spec.get();
                wire(s);
                ObservedState obs;
                if (channel == null || !channel.answers(s)) {
                    obs = observer.observe(s, askBeside(s), windowOverride);
                    channel = new ChannelAnswer(s.packageName(), s.track(), s.pin().isPresent(), obs.candidate());
                } else {
                    obs = observer.observe(s, channel.candidate(), windowOverride);
                }
                lastObserved = obs;
                listener.observed(obs);
                Decision d = Planner.next(s, obs);
                last = Optional.of(d);
                if (d.action().endsPass()) {
                    recordPass(d);
                    Optional<Duration> requeue = d.action() instanceof Action.Hold h ? h.recheck() : Optional.empty();
                    return new Result(d.action() instanceof Action.Converged ? PassOutcome.CONVERGED : PassOutcome.HELD, last, requeue, steps, Optional.empty());
                }
                Outcome o;
                try {
                    o = executor.execute(s, d.action());
                } catch (ActuatorException e) {
                    store.event(clock.instant(), d.action().name(), d.action().eventTarget(), "error", e.getMessage());
                    log.error("step", Log.kv("action", d.action().name(), "target", d.action().eventTarget(), "user", d.action().subjectUser().orElse(null),
                            "version", d.action().subjectVersion().map(Object::toString).orElse(null), "outcome", "error", "reason", d.reason(), "error", e.getMessage()));
                    throw e;
                }
                steps++;
                recordStep(d, o);
                if (o.fault()) return new Result(PassOutcome.ERROR, last, Optional.empty(), steps, Optional.of(o.detail()));
                if (stop.getAsBoolean() && !finishRollbackBeforeStopping()) return new Result(PassOutcome.INTERRUPTED, last, Optional.empty(), steps, Optional.empty());
            }
            return new Result(PassOutcome.ERROR, last, Optional.empty(), steps, Optional.of("no convergence after " + MAX_STEPS + " steps"));
        } catch (ActuatorException e) {
            return new Result(PassOutcome.ERROR, last, Optional.empty(), steps, Optional.of(e.getMessage()));
        }
    }

    /**
     * The registry is asked on a thread of its own while the rest is observed: in a fresh process both the registry's
     * round trip and the bus's are mostly connection set-up and class loading, and side by side they overlap.
     * The answer is waited for uninterruptibly (the registry call has its own timeout); a stop is kept for the step
     * boundary, as everywhere else.
     */
    private Supplier<ObservedState.Candidate> askBeside(DesiredState s) {
        FutureTask<ObservedState.Candidate> asked = new FutureTask<>(() -> observer.resolve(s));
        Thread t = new Thread(asked, "t3r-resolve");
        t.setDaemon(true);
        t.start();
        return () -> {
            boolean interrupted = false;
            try {
                while (true) {
                    try {
                        return asked.get();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    } catch (ExecutionException e) {
                        throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
                    }
                }
            } finally {
                if (interrupted) Thread.currentThread().interrupt();
            }
        };
    }

    /**
     * The registry is asked once per pass, not before every step: the tag's answer does not change a rollout in
     * flight, and asking again (a process or a round trip each time) was most of a bump's wall time (issue 15). So a
     * pass works toward one target from start to end; the tag is looked at again by the next pass, where a rollout
     * that never reached a user is abandoned for a newer build and one that did finishes first, as before. Asked again
     * within the pass only when the desired state names another package or channel, or gains or loses a pin.
     */
    private record ChannelAnswer(String packageName, t3.reconciler.model.Channel track, boolean pinned, ObservedState.Candidate candidate) {
        boolean answers(DesiredState s) { return packageName.equals(s.packageName()) && track == s.track() && pinned == s.pin().isPresent(); }
    }

    private void recordStep(Decision d, Outcome o) {
        if (!o.parts().isEmpty()) {
            // A batch is recorded as what it stands for: one step per user, each with its own outcome; the batch's
            // own reason (why these users together) is one line of its own ("decision" lines end a pass: readers wait for them).
            log.info("batch", Log.kv("action", d.action().name(), "target", d.action().eventTarget(), "reason", d.reason()));
            for (Outcome.Part p : o.parts()) recordStep(p.step(), p.outcome());
            return;
        }
        listener.step(d.action(), o);
        store.event(clock.instant(), d.action().name(), d.action().eventTarget(), o.label(), d.reason() + " => " + o.detail(), o.detail());
        var fields = Log.kv("action", d.action().name(), "target", d.action().eventTarget(), "user", d.action().subjectUser().orElse(null),
                "version", d.action().subjectVersion().map(Object::toString).orElse(null), "outcome", o.label(), "reason", d.reason(), "detail", o.detail());
        if (o.ok()) log.info("step", fields);
        else log.warn("step", fields);
    }

    /**
     * Carries out the operator's pending requests ({@code unfreeze}, {@code unblock}) and nothing else, as the planner
     * plans them: what the CLI has done at once when no daemon runs. Left to the next pass (which recovers first) when a
     * crash left a step in flight.
     *
     * @return the steps done
     */
    public int applyRequests(DesiredState s) throws ActuatorException {
        if (store.journal().isPresent() || store.stepInFlight().isPresent()) return 0;
        wire(s);
        int steps = 0;
        while (steps < MAX_STEPS) {
            Optional<Decision> d = Planner.operatorRequest(store.unfreezeRequest(), store.unblockRequests());
            if (d.isEmpty()) break;
            recordStep(d.get(), executor.execute(s, d.get().action()));
            steps++;
        }
        return steps;
    }

    /**
     * SIGTERM stops at a step boundary, except in the middle of a rollback: users the failed build left down come back
     * only with their restore, so the rollback runs on (it is never gated) for up to {@link #STOP_BUDGET}, inside the
     * controller unit's TimeoutStopSec=5min. A SIGKILL after that is what the journal and {@link Recovery} are for.
     */
    private boolean finishRollbackBeforeStopping() {
        if (store.rollout().filter(r -> r.failed()).isEmpty()) return false;
        if (stopSeen == null) {
            stopSeen = clock.instant();
            log.warn("stop-deferred", Log.kv("reason", "stop requested during a rollback: finishing it first (at most " + STOP_BUDGET.toSeconds() + " s) so no user is left down"));
        }
        return clock.instant().isBefore(stopSeen.plus(STOP_BUDGET));
    }

    /**
     * A hold is recorded once per change of reason, not at every resync, so the event log stays readable. The log
     * line is deduplicated per process only: a restarted controller says once why it holds.
     */
    private void recordPass(Decision d) {
        Optional<Gate> gate = d.action() instanceof Action.Hold h ? Optional.of(h.gate()) : Optional.empty();
        LastDecision key = new LastDecision(d.action().name(), gate, d.reason());
        if (!store.lastDecision().equals(Optional.of(key))) {
            store.recordDecision(key);
            store.event(clock.instant(), gate.map(g -> "hold:" + g.label()).orElse(d.action().name()), "-", "ok", d.reason());
            // A new pause (or a new reason for it) tells the operator at once; promote or abort resolves it.
            if (gate.equals(Optional.of(Gate.AWAITING_APPROVAL))) {
                store.rollout().ifPresent(r -> alerter.fire("T3AwaitingApproval", "info", d.reason(), Map.of("version", r.target().toString())));
            }
        }
        // The crash matrix's point for a controller that dies while a rollout is paused for the operator's promote.
        if (gate.equals(Optional.of(Gate.AWAITING_APPROVAL))) crash.at("awaiting-approval");
        if (!key.equals(lastLogged)) {
            lastLogged = key;
            log.info("decision", Log.kv("action", d.action().name(), "gate", gate.map(Gate::label).orElse(null), "reason", d.reason()));
        }
    }
}
