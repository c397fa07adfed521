package t3.reconciler.controller.cli;

import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import t3.reconciler.controller.loop.FreezeFile;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.BreakerState;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.UnfreezeRequest;

@Command(name = "unfreeze", mixinStandardHelpOptions = true, description = "Resume bumps: removes the freeze file and has the controller reset an open breaker (blocked versions stay blocked).")
final class UnfreezeCommand implements Callable<Integer> {
    @Mixin SpecOption spec;

    @Option(names = "--reason", defaultValue = "unfrozen by the operator")
    String reason;

    @Override
    public Integer call() throws Exception {
        DesiredState s = spec.load();
        String who = System.getenv().getOrDefault("SUDO_USER", System.getProperty("user.name"));
        // The freeze file is the operator's own; the breaker is the controller's: its reset is a request the planner acts on.
        boolean removed = FreezeFile.remove(s.controller().freezeFile());
        BreakerState b;
        try (StateStore store = StateStore.open(s.controller().stateDb())) {
            b = store.breaker();
            Instant now = Instant.now();
            if (!b.isClosed()) store.requestUnfreeze(new UnfreezeRequest(who, reason, now));
            store.event(now, "unfreeze", "-", "ok", who + ": " + reason + (removed ? "; removed freeze file" : "") + (b.isClosed() ? "" : "; asked for the breaker's reset (was " + b.status() + " on " + b.version().map(Object::toString).orElse("?") + ")"));
        }
        String breaker = b.isClosed() ? "" : "; breaker reset: " + OperatorRequests.carryOut(s);
        System.out.println("unfrozen" + (removed ? ": removed " + s.controller().freezeFile() : "") + breaker);
        return Main.OK;
    }
}
