package t3.reconciler.model.fleet;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What a host publishes about itself, under its lease (so it vanishes with the host): what {@code fleet status} shows.
 * Versions are the text npm prints; {@code phase} and {@code breaker} are the host's own words for them (display only:
 * no host decides anything from another's status).
 */
public record HostStatus(String host, Optional<String> installed, Optional<String> lastGood, Map<String, String> users,
                         String breaker, String phase, Instant heartbeat) {
    public HostStatus {
        users = Map.copyOf(new TreeMap<>(users));
    }
}
