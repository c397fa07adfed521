package t3.reconciler.controller.cli;

import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import t3.reconciler.controller.store.Event;
import t3.reconciler.controller.store.StateStore;

@Command(name = "events", mixinStandardHelpOptions = true, description = "The event log: every step, its outcome and its reason.")
final class EventsCommand implements Callable<Integer> {
    @Mixin SpecOption spec;

    @Option(names = "--since", paramLabel = "INSTANT", description = "only events at or after this ISO-8601 instant")
    Instant since;

    @Option(names = "--limit", defaultValue = "100")
    int limit;

    @Override
    public Integer call() {
        try (StateStore store = StateStore.open(spec.load().controller().stateDb())) {
            for (Event e : store.events(Optional.ofNullable(since), limit)) {
                System.out.println(e.at() + "  " + e.action() + " " + e.target() + " [" + e.outcome() + "] " + e.reason());
            }
        }
        return Main.OK;
    }
}
