package t3.reconciler.controller.cli;

import java.time.Duration;
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

    @Override
    public Integer call() {
        Optional<Instant> from = Optional.ofNullable(since).map(w -> since(w, Instant.now()));
        try (StateStore store = StateStore.open(spec.load().controller().stateDb())) {
            for (Event e : store.events(from, limit)) {
                System.out.println(e.at() + "  " + e.action() + " " + e.target() + " [" + e.outcome() + "] " + e.reason());
            }
        }
        return Main.OK;
    }

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
