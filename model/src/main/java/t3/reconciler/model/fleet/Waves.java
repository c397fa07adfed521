package t3.reconciler.model.fleet;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Whether this host may start {@code version} yet, from the facts alone (pure: the planner's wave gate). Canary hosts
 * go at once; every other host waits until each canary host promoted the version and the latest of those promotions
 * is {@code soak} old. Promotion times are the promoting hosts' clocks: skew between hosts lengthens or shortens the
 * soak by that much.
 */
public final class Waves {
    private Waves() {}

    public sealed interface Gate {}

    public record Go() implements Gate {}

    /** These canary hosts have not promoted the version (yet). */
    public record AwaitingCanaries(List<String> hosts) implements Gate {
        public AwaitingCanaries {
            hosts = List.copyOf(hosts);
        }
    }

    /** Every canary promoted it; the soak ends at {@code until}. */
    public record Soaking(Instant until) implements Gate {}

    public static Gate gate(FleetFacts facts, List<String> canaryHosts, Duration soak, String version, Instant now) {
        if (canaryHosts.isEmpty() || canaryHosts.contains(facts.self())) return new Go();
        Map<String, Instant> promoted = facts.promotions().getOrDefault(version, Map.of());
        List<String> waiting = new ArrayList<>();
        Instant last = Instant.EPOCH;
        for (String c : canaryHosts) {
            Instant at = promoted.get(c);
            if (at == null) waiting.add(c);
            else if (at.isAfter(last)) last = at;
        }
        if (!waiting.isEmpty()) return new AwaitingCanaries(waiting);
        Instant until = last.plus(soak);
        return now.isBefore(until) ? new Soaking(until) : new Go();
    }
}
