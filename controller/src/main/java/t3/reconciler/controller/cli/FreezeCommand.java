package t3.reconciler.controller.cli;

import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import t3.reconciler.controller.loop.FreezeFile;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.DesiredState;

@Command(name = "freeze", mixinStandardHelpOptions = true, description = "Stop all bumps: writes the operator freeze file (what 'sudo touch' did).")
final class FreezeCommand implements Callable<Integer> {
    @Mixin SpecOption spec;

    @Option(names = "--reason", defaultValue = "frozen by the operator")
    String reason;

    @Override
    public Integer call() throws Exception {
        DesiredState s = spec.load();
        String who = System.getenv().getOrDefault("SUDO_USER", System.getProperty("user.name"));
        FreezeFile.write(s.controller().freezeFile(), reason + " (" + who + ", " + Instant.now() + ")");
        try (StateStore store = StateStore.open(s.controller().stateDb())) {
            store.event(Instant.now(), "freeze", "-", "ok", who + ": " + reason);
        }
        System.out.println("frozen: " + s.controller().freezeFile());
        return Main.OK;
    }
}
