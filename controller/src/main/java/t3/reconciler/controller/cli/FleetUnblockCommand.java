package t3.reconciler.controller.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.Version;

@Command(name = "unblock", mixinStandardHelpOptions = true, description = {
        "Lift the fleet's verdict on VERSION, so every host of the group may try it again.",
        "A host that blocked it itself keeps its own block: 'unblock VERSION' there. Exit 2 if the fleet has not blocked VERSION."})
final class FleetUnblockCommand implements Callable<Integer> {
    @Mixin SpecOption spec;

    @Parameters(paramLabel = "VERSION")
    String version;

    @Option(names = "--reason", defaultValue = "unblocked by the operator")
    String reason;

    @Override
    public Integer call() {
        Version v = Args.version(version);
        DesiredState s = spec.load();
        boolean had = FleetAccess.request(s, fleet -> fleet.records.unblock(v.toString()));
        if (!had) throw new CliException(Main.USAGE, v + " is not blocked for group " + s.fleet().get().group() + " ('fleet status' lists the verdicts)");
        FleetAccess.record(s, "fleet-unblock", v.toString(), "ok", reason);
        System.out.println("unblocked for the fleet: " + v);
        return Main.OK;
    }
}
