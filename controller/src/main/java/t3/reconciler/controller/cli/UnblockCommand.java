package t3.reconciler.controller.cli;

import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.Version;

@Command(name = "unblock", mixinStandardHelpOptions = true, description = {
        "Remove VERSION from the blocked list (a failed or rolled-back version), so the controller may try it again.",
        "Recorded in the event log with who and why. Exit 2 if VERSION is not blocked."})
final class UnblockCommand implements Callable<Integer> {
    @Mixin SpecOption spec;

    @Parameters(paramLabel = "VERSION")
    String version;

    @Option(names = "--reason", defaultValue = "unblocked by the operator")
    String reason;

    @Override
    public Integer call() {
        Version v = Args.version(version);
        try (StateStore store = StateStore.open(spec.load().controller().stateDb())) {
            if (!store.blocked().contains(v)) throw new CliException(Main.USAGE, v + " is not blocked (blocked: " + (store.blocked().isEmpty() ? "none" : store.blocked()) + ")");
            store.unblock(v);
            store.event(Instant.now(), "unblock", v.toString(), "ok", Args.who() + ": " + reason);
        }
        System.out.println("unblocked " + v);
        return Main.OK;
    }
}
