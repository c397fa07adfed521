package t3.reconciler.controller.cli;

import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import t3.reconciler.controller.loop.Observer;
import t3.reconciler.controller.plan.Action;
import t3.reconciler.controller.plan.Decision;
import t3.reconciler.controller.plan.ExitCode;
import t3.reconciler.controller.plan.Planner;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.ObservedState;

@Command(name = "plan", mixinStandardHelpOptions = true, description = "Show desired vs observed and the next step the controller would take, and why. Changes nothing.")
final class PlanCommand implements Callable<Integer> {
    @Mixin SpecOption spec;

    @Option(names = "--outside-window", description = "plan as if the operator overrode the maintenance window")
    boolean override;

    @Override
    public Integer call() throws Exception {
        DesiredState s = spec.load();
        try (Wiring w = Wiring.open(s)) {
            ObservedState obs = FleetRead.into(s, new Observer(w.io, w.store, Clock.systemUTC()).observe(s, true, override));
            Decision d = Planner.next(s, obs);
            StatusCommand.printSummary(s, obs, System.out);
            System.out.println();
            String what = d.action() instanceof Action.Hold h ? "hold (" + h.gate().label() + ")" : d.action().toString();
            System.out.println("Next: " + what);
            System.out.println("Why:  " + d.reason());
            return ExitCode.ofPlan(d);
        }
    }
}
