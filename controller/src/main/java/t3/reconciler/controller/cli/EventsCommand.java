package t3.reconciler.controller.cli;

import java.io.PrintStream;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

    @Option(names = "--since", paramLabel = "WHEN", description = "only events at or after WHEN: an ISO-8601 instant (2026-06-08T04:00:00Z) or how long ago (30m, 2h, 1d, PT90M)")
    String since;

    @Option(names = "--limit", defaultValue = "100")
    int limit;

    @Option(names = "--follow", description = "keep printing events as the controller writes them (Ctrl-C to stop)")
    boolean follow;

    @Override
    public Integer call() throws Exception {
        Optional<Instant> from = Optional.ofNullable(since).map(w -> since(w, Instant.now()));
        try (StateStore store = StateStore.open(spec.load().controller().stateDb())) {
            if (follow) {
                follow(store, from, limit, System.out, StatusCommand.WATCH_POLL, () -> false);
                return Main.OK;
            }
            for (Event e : store.events(from, limit)) System.out.println(line(e));
        }
        return Main.OK;
    }

    /** The last {@code limit} events since {@code from}, then each new one as the store gets it, until {@code stopped}. */
    static void follow(StateStore store, Optional<Instant> from, int limit, PrintStream out, Duration poll, BooleanSupplier stopped) throws Exception {
        long[] last = {0};
        for (Event e : store.events(from, limit)) {
            out.println(line(e));
            last[0] = e.id();
        }
        // Nothing shown (all older than --since): follow from the newest event, not from the start of the log.
        if (last[0] == 0) last[0] = store.events(Optional.empty(), 1).stream().mapToLong(Event::id).max().orElse(0);
        out.flush();
        StoreWatch.follow(store, poll, stopped, () -> {
            for (Event e : store.eventsAfter(last[0])) {
                out.println(line(e));
                last[0] = e.id();
            }
            out.flush();
        });
    }

    static String line(Event e) { return e.at() + "  " + e.action() + " " + e.target() + " [" + e.outcome() + "] " + e.reason(); }

    /** An instant, or a duration back from {@code now}: {@code 2h}, {@code 30m}, {@code 45s}, {@code 1d} or ISO-8601 {@code PT2H}. */
    static Instant since(String when, Instant now) {
        try {
            return Instant.parse(when);
        } catch (DateTimeParseException notAnInstant) {
            Matcher m = SHORT.matcher(when.strip());
            try {
                if (m.matches()) {
                    long n = Long.parseLong(m.group(1));
                    Duration d = switch (m.group(2)) {
                        case "s" -> Duration.ofSeconds(n);
                        case "m" -> Duration.ofMinutes(n);
                        case "h" -> Duration.ofHours(n);
                        default -> Duration.ofDays(n);
                    };
                    return now.minus(d);
                }
                return now.minus(Duration.parse(when));
            } catch (DateTimeParseException | ArithmeticException | NumberFormatException e) {
                throw new CliException(Main.USAGE, "--since: '" + when + "' is neither an ISO-8601 instant (2026-06-08T04:00:00Z) nor a duration (30m, 2h, 1d, PT90M)");
            }
        }
    }

    private static final Pattern SHORT = Pattern.compile("(\\d{1,9})([smhd])");
}
