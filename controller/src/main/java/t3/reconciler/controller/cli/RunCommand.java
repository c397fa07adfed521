package t3.reconciler.controller.cli;

import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import t3.reconciler.controller.actuator.fleet.Fleet;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.crash.CrashPoints;
import t3.reconciler.controller.loop.Daemon;
import t3.reconciler.controller.loop.HeldBack;
import t3.reconciler.controller.plan.ExitCode;
import t3.reconciler.controller.loop.LiveActuators;
import t3.reconciler.controller.loop.Metrics;
import t3.reconciler.controller.loop.Reconciler;
import t3.reconciler.controller.loop.SpecAlerter;
import t3.reconciler.controller.loop.SpecHolder;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.DesiredState;

@Command(name = "run", mixinStandardHelpOptions = true, description = {
        "Run the controller: reconcile now, then on every trigger (resync timer, edit of the file, freeze file, SIGHUP).",
        "SIGTERM stops at the next step boundary (a rollback in progress is finished first, for up to 4 minutes)."})
final class RunCommand implements Callable<Integer> {
    @Mixin SpecOption spec;

    @Option(names = "--once", description = "one reconcile pass (every step until converged or held), then exit: 0 converged, 3 held by a gate, 1 failed")
    boolean once;

    @Option(names = "--outside-window", description = "with --once: the operator overrides the maintenance window (recorded in the event log)")
    boolean override;

    @Override
    public Integer call() throws Exception {
        DesiredState s = spec.load();
        Clock clock = Clock.systemUTC();
        Log log = Log.toStderr(clock);
        SpecHolder holder = new SpecHolder(spec.path(), s, log);
        // Built from the state in force at each step boundary, so every live key of an edit acts at the next step.
        try (StateStore store = StateStore.open(s.controller().stateDb());
             LiveActuators io = new LiveActuators(Wiring::actuators, f -> Fleet.open(f, clock, log), log);
             SpecAlerter alerter = SpecAlerter.following(log, () -> holder.inForce().alerts())) {
            Reconciler reconciler = new Reconciler(io::forSpec, store, clock, log, alerter, CrashPoints.fromEnvironment());
            HeldBack heldBack = HeldBack.persistedIn(store);
            Daemon daemon = new Daemon(holder, store, reconciler, () -> new Metrics(holder, heldBack), heldBack, clock, log, alerter)
                    .fleet(d -> io.forSpec(d).fleet());
            Reconciler.Result r = daemon.run(once, override);
            if (!once) return Main.OK;
            return ExitCode.of(r.outcome());
        }
    }
}
