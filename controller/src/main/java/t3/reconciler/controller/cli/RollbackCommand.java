package t3.reconciler.controller.cli;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.crash.CrashPoints;
import t3.reconciler.controller.loop.Daemon;
import t3.reconciler.controller.loop.DaemonLock;
import t3.reconciler.controller.loop.FreezeFile;
import t3.reconciler.controller.loop.LogAlerter;
import t3.reconciler.controller.loop.Observer;
import t3.reconciler.controller.loop.Reconciler;
import t3.reconciler.controller.plan.ExitCode;
import t3.reconciler.controller.plan.PassOutcome;
import t3.reconciler.controller.plan.Planner;
import t3.reconciler.controller.plan.RollbackTarget;
import t3.reconciler.controller.store.LastReconcile;
import t3.reconciler.controller.store.Activation;
import t3.reconciler.controller.store.Event;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.ObservedState;
import t3.reconciler.model.Quarantine;
import t3.reconciler.model.RollbackRequest;
import t3.reconciler.model.UserState;
import t3.reconciler.model.Version;

/**
 * The manual rollback runbook as one command. It only records the operator's word (freeze file, rollback request,
 * the version rolled back from blocked); the planner turns the request into the checked deliberate-downgrade steps
 * (link back, reinstall aside if needed, restore each user's DB from the newest verified backup on the target with
 * the current DB archived, restart, verify pairing) and the reconciler executes them, journaled like any bump:
 * the running daemon after a SIGHUP, or this process holding the daemon's lock when none runs.
 */
@Command(name = "rollback", mixinStandardHelpOptions = true, description = {
        "Put every user back on an earlier version, restoring each database from a backup taken on it.",
        "The target is VERSION (default: a pending rollback's target, else last-good, or if that is what runs,",
        "the version before it): freeze first, switch the link back (reinstalling the",
        "version aside if its prefix is gone), restore each user's database from the newest verified backup taken on",
        "that version (the current one is archived), restart each unit and verify its pairing. The version rolled back",
        "from is blocked, so 'unfreeze' does not bump straight back ('unblock' it when fixed).",
        "Busy users (an agent at work) are deferred and reported, unless --force.",
        "Exit 0 done, 1 a step failed, 3 refused (a needed backup is missing: nothing was changed; or users deferred)."})
final class RollbackCommand implements Callable<Integer> {
    @Mixin SpecOption spec;

    @Option(names = "--to", paramLabel = "VERSION", description = "target version (default: see above)")
    String to;

    @Option(names = "--force", description = "restore busy users too (their agents' sessions are interrupted)")
    boolean force;

    @Option(names = "--wait", description = "when a daemon runs: wait until it has finished the rollback (or held)")
    boolean await;

    @Option(names = "--timeout", defaultValue = "PT1H", paramLabel = "DURATION", description = "with --wait: give up after this long (ISO-8601)")
    Duration timeout;

    @Override
    public Integer call() throws Exception {
        DesiredState s = spec.load();
        Version requested = to != null ? Args.version(to) : null;
        String who = Args.who();
        Instant at = Instant.now();
        Version target;
        Instant since; // when this rollback was first asked for: a rerun reports the users an earlier run restored too
        try (Wiring w = Wiring.open(s)) {
            ObservedState obs = new Observer(w.io, w.store, Clock.systemUTC()).observe(s, false, false);
            target = requested != null ? requested : defaultTarget(obs, w.store.activations());
            if (obs.rollbackRequest().isEmpty() && Planner.everyoneOn(s, obs, target)) {
                System.out.println("nothing to roll back: the link points at " + target + ", it is last-good and every active user runs it");
                return Main.OK;
            }
            List<String> missing = Planner.withoutBackupOn(s, obs, target);
            if (!missing.isEmpty()) {
                throw new CliException(Main.REFUSED, "refused: no verified backup taken on " + target + " for " + String.join(", ", missing)
                        + ", so their databases cannot go back to its schema; nothing was changed");
            }
            Optional<Version> from = obs.installed().filter(target::isOlderThan);
            since = obs.rollbackRequest().filter(r -> r.target().equals(target)).map(RollbackRequest::at).orElse(at);
            // Freeze first: whatever happens below, nothing bumps past the operator's decision.
            FreezeFile.write(s.controller().freezeFile(), "rollback to " + target + " by " + who + " (" + at + ")");
            // The version rolled back from is blocked by the controller, as the first step of the request.
            w.store.requestRollback(new RollbackRequest(target, force, who, since, from));
            w.store.event(at, "rollback-request", target.toString(), "ok", who + ": rollback to " + target + (force ? " (--force)" : "")
                    + "; froze, recorded the request" + from.map(v -> " (blocking " + v + ")").orElse(""));
            System.out.println("froze (" + s.controller().freezeFile() + ") and recorded the rollback to " + target + from.map(v -> "; blocking " + v + " (see 'unblock')").orElse(""));
        }

        Optional<Long> daemon = DaemonClient.running(s);
        if (daemon.isPresent()) return viaDaemon(s, daemon.get(), at, since);
        return inProcess(s, since);
    }

    /** {@link RollbackTarget}, or refused: there is no earlier version to go back to. */
    static Version defaultTarget(ObservedState obs, List<Activation> activations) {
        return RollbackTarget.of(obs, activations.stream().map(Activation::version).toList()).orElseThrow(() -> new CliException(Main.REFUSED,
                "refused: no earlier version to roll back to (last-good " + obs.lastGood().map(Version::toString).orElse("none")
                + ", installed " + obs.installed().map(Version::toString).orElse("nothing") + "); say which with --to VERSION"));
    }

    private int viaDaemon(DesiredState s, long pid, Instant at, Instant since) throws Exception {
        DaemonClient.hup(s, pid);
        if (!await) {
            System.out.println("sent SIGHUP to the daemon (pid " + pid + "), which carries the rollback out; follow with 't3-reconciler status' or rerun with --wait");
            return Main.OK;
        }
        System.out.println("sent SIGHUP to the daemon (pid " + pid + "); waiting for it to finish the rollback");
        try (StateStore store = StateStore.open(s.controller().stateDb())) {
            LastReconcile last = DaemonClient.await(store, pid, at, () -> store.rollbackRequest().isEmpty(), timeout);
            // Cleared mid-pass: the recorded last pass is an older one, so say who finished it instead.
            return report(s, store, since, last, store.rollbackRequest().isEmpty() ? "the daemon (pid " + pid + ") finished it" : last.text());
        }
    }

    /** No daemon: this process takes the daemon's lock (so none starts meanwhile) and runs the passes itself. */
    private int inProcess(DesiredState s, Instant since) throws Exception {
        Clock clock = Clock.systemUTC();
        Log log = new Log(System.err, Log.Format.HUMAN, clock);
        try (DaemonLock lock = lockOrFail(s)) {
            try (Wiring w = Wiring.open(s); LogAlerter alerter = new LogAlerter(log, s.alerts().webhook())) {
                Reconciler reconciler = new Reconciler(w.io, w.store, clock, log, alerter, CrashPoints.fromEnvironment());
                Reconciler.Result r = null;
                // One pass normally finishes it (it runs until converged or held); a pass that did steps may be followed by another.
                for (int pass = 0; pass < 5 && w.store.rollbackRequest().isPresent(); pass++) {
                    r = reconciler.reconcile(() -> s, false, () -> false);
                    if (r.steps() == 0 || r.outcome() == PassOutcome.ERROR) break;
                }
                LastReconcile last = r == null ? new LastReconcile(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), 0, "?")
                        : new LastReconcile(Optional.empty(), Optional.empty(), Optional.of(r.outcome()), r.gate(), r.steps(), r.summary());
                return report(s, w.store, since, last, r == null ? "?" : "the controller's last pass: " + r.summary());
            }
        }
    }

    /** The daemon's own lock: while this process holds it, no daemon starts. */
    private static DaemonLock lockOrFail(DesiredState s) throws java.io.IOException {
        try {
            return DaemonLock.acquire(s);
        } catch (IllegalStateException held) {
            throw new CliException(Main.FAILED, "a daemon holds " + Daemon.lockFileOf(s) + " but it is not the one the pid file names (" + DaemonClient.find(s).why() + "); the request is recorded, send it SIGHUP");
        }
    }

    private static String obsTarget(StateStore store) { return store.lastGood().map(Version::toString).orElse("?"); }

    /**
     * Per user: what version it runs now and what happened to its database, from the event log of this rollback.
     *
     * @param pass how the last pass ended (the exit code when the rollback is not done); {@code last}: it, for people
     */
    private static int report(DesiredState s, StateStore store, Instant since, LastReconcile pass, String last) throws Exception {
        List<Event> events = store.events(Optional.of(since), 1000);
        boolean done = store.rollbackRequest().isEmpty();
        Map<String, Quarantine> quarantined = store.quarantined();
        try (Wiring w = Wiring.open(s)) {
            ObservedState obs = new Observer(w.io, w.store, Clock.systemUTC()).observe(s, false, false);
            System.out.println("link: " + obs.installed().map(Version::toString).orElse("-") + ", last-good: " + obs.lastGood().map(Version::toString).orElse("-"));
            for (UserState u : obs.users()) {
                Optional<Event> restore = events.stream().filter(e -> e.action().equals("restore") && u.name().equals(e.target())).reduce((a, b) -> b);
                System.out.println("  " + u.name() + ": " + u.activeState() + " on " + u.runningVersion().map(Version::toString).orElse("-")
                        + (u.busy() ? " (busy: " + String.join(", ", u.busyProcesses()) + ")" : "") + "; "
                        + restore.map(e -> "[" + e.outcome() + "] " + (e.detail() != null ? e.detail() : e.reason()))
                                .orElse("database not restored"));
            }
        }
        if (done && !quarantined.isEmpty()) {
            // Done for everyone else; an operator must look at the quarantined users' files (runbook: T3UserQuarantined).
            System.out.println("rollback to " + obsTarget(store) + " done for everyone else; quarantined, NOT restored: "
                    + String.join("; ", quarantined.values().stream().map(q -> q.user() + " (" + q.reason() + ")").toList()));
            return Main.FAILED;
        }
        if (done) {
            System.out.println("rollback to " + obsTarget(store) + " done; " + last);
            return Main.OK;
        }
        System.out.println("rollback NOT finished: " + last);
        System.out.println("the request stays recorded (see 't3-reconciler status'); the daemon finishes it, or rerun 'rollback' (with --force for busy users)");
        return ExitCode.ofUnfinishedRollback(pass.outcome(), pass.gate());
    }
}
