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

@Command(name = "unfreeze", mixinStandardHelpOptions = true, description = "Resume bumps: removes the freeze file and resets an open breaker (blocked versions stay blocked).")
final class UnfreezeCommand implements Callable<Integer> {
    @Mixin SpecOption spec;

    @Option(names = "--reason", defaultValue = "unfrozen by the operator")
    String reason;

    @Override
    public Integer call() throws Exception {
        DesiredState s = spec.load();
        String who = System.getenv().getOrDefault("SUDO_USER", System.getProperty("user.name"));
        boolean removed = FreezeFile.remove(s.controller().freezeFile());
        try (StateStore store = StateStore.open(s.controller().stateDb())) {
            BreakerState b = store.breaker();
            if (!b.isClosed()) store.saveBreaker(BreakerState.closed());
            store.event(Instant.now(), "unfreeze", "-", "ok", who + ": " + reason + (removed ? "; removed freeze file" : "") + (b.isClosed() ? "" : "; reset breaker (was " + b.status() + " on " + b.version().map(Object::toString).orElse("?") + ")"));
        }
        System.out.println("unfrozen" + (removed ? ": removed " + s.controller().freezeFile() : ""));
        return Main.OK;
    }
}
