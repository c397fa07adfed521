package t3.reconciler.controller.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import t3.reconciler.controller.actuator.fleet.SlotResult;
import t3.reconciler.model.DesiredState;

@Command(name = "unlock", mixinStandardHelpOptions = true, description = {
        "Free the rollout slot HOST holds, whoever it is, so another host may start its rollout.",
        "For a host that is gone or stuck (a dead host's slot also frees itself after fleet.leaseTtl). Exit 2 if HOST holds no slot."})
final class FleetUnlockCommand implements Callable<Integer> {
    @Mixin SpecOption spec;

    @Parameters(paramLabel = "HOST", description = "the host id that holds the slot, as 'fleet status' shows it")
    String host;

    @Option(names = "--reason", defaultValue = "slot freed by the operator")
    String reason;

    @Override
    public Integer call() {
        String h = Args.host(host);
        DesiredState s = spec.load();
        SlotResult r = FleetAccess.request(s, fleet -> fleet.slots.forceUnlock(h));
        if (r instanceof SlotResult.NotHeld) throw new CliException(Main.USAGE, h + " holds no rollout slot in group " + s.fleet().get().group() + " ('fleet status' lists the holders)");
        FleetAccess.record(s, "fleet-unlock", h, "ok", reason);
        System.out.println("unlocked: " + h + "'s slot in group " + s.fleet().get().group() + " is free");
        return Main.OK;
    }
}
