package t3.reconciler.controller.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import t3.reconciler.model.DesiredState;

@Command(name = "unfreeze", mixinStandardHelpOptions = true, description = {
        "Lift the fleet freeze: every host of the group may bump again.",
        "A host's own freeze (freeze file, freeze: true, an open breaker) stays: lift it there with 'unfreeze'."})
final class FleetUnfreezeCommand implements Callable<Integer> {
    @Mixin SpecOption spec;

    @Option(names = "--reason", defaultValue = "unfrozen by the operator")
    String reason;

    @Override
    public Integer call() {
        DesiredState s = spec.load();
        boolean was = FleetAccess.request(s, fleet -> fleet.records.unfreeze(Args.who()));
        String group = s.fleet().get().group();
        FleetAccess.record(s, "fleet-unfreeze", group, "ok", reason + (was ? "" : " (the fleet was not frozen)"));
        System.out.println(was ? "fleet unfrozen: group " + group : "group " + group + " was not frozen");
        return Main.OK;
    }
}
