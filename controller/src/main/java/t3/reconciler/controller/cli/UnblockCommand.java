package t3.reconciler.controller.cli;

import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.UnblockRequest;
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
    public Integer call() throws java.io.IOException {
        Version v = Args.version(version);
        DesiredState s = spec.load();
        try (StateStore store = StateStore.open(s.controller().stateDb())) {
            if (!store.blocked().contains(v)) throw new CliException(Main.USAGE, v + " is not blocked (blocked: " + (store.blocked().isEmpty() ? "none" : store.blocked()) + ")");
            // The blocked list is the controller's: the CLI records the operator's word, the planner acts on it.
            Instant now = Instant.now();
            store.requestUnblock(new UnblockRequest(v, Args.who(), reason, now));
            store.event(now, "unblock", v.toString(), "ok", Args.who() + ": " + reason);
        }
        String how = OperatorRequests.carryOut(s);
        System.out.println((how.equals("done") ? "unblocked " + v : "unblock " + v + ": " + how));
        return Main.OK;
    }
}
