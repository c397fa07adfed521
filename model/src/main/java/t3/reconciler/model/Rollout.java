package t3.reconciler.model;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A bump in progress, as the state store records it: the Argo-Rollouts-style status the planner resumes from.
 *
 * @param from        the version installed when the bump started (the rollback target)
 * @param backups     each user's pre-bump backup, taken in this rollout
 * @param healthy     the health check passed on a copy of real data
 * @param restarted   users whose unit was restarted onto {@code target} (their DB may be migrated)
 * @param verified    users whose pairing was verified after the restart
 * @param restored    users whose DB was restored from their pre-bump backup after a failure
 * @param failure     why the bump failed (health check or canary), which makes the planner roll back
 */
public record Rollout(
        long id,
        Version target,
        Optional<Version> from,
        Instant startedAt,
        Map<String, Path> backups,
        boolean healthy,
        Set<String> restarted,
        Set<String> verified,
        Set<String> restored,
        Optional<String> failure) {

    public Rollout {
        backups = Map.copyOf(backups);
        restarted = Set.copyOf(restarted);
        verified = Set.copyOf(verified);
        restored = Set.copyOf(restored);
    }

    public boolean failed() { return failure.isPresent(); }
}
