package t3.reconciler.controller.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import t3.reconciler.model.DesiredState;

@Command(name = "freeze", mixinStandardHelpOptions = true, description = {
        "Stop bumps on every host of the group: each stops at its next step boundary, as for the local freeze.",
        "Rollbacks and daily backups still run. A second freeze replaces the first one's reason."})
final class FleetFreezeCommand implements Callable<Integer> {
    @Mixin SpecOption spec;

    @Option(names = "--reason", defaultValue = "frozen by the operator")
    String reason;

    @Override
    public Integer call() {
        DesiredState s = spec.load();
        FleetAccess.request(s, fleet -> {
            fleet.records.freeze(Args.who(), reason);
            return null;
        });
        FleetAccess.record(s, "fleet-freeze", s.fleet().get().group(), "ok", reason);
        System.out.println("fleet frozen: group " + s.fleet().get().group());
        return Main.OK;
    }
}
