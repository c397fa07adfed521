package t3.reconciler.controller.store;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import t3.reconciler.model.BreakerState;
import t3.reconciler.model.Rollout;
import t3.reconciler.model.Version;

/**
 * The controller's own SQLite database (sqlite-jdbc): last-good, activations, the rollout in progress, blocked
 * versions, the breaker, the event log and the journal of the step in flight. The schema is versioned
 * ({@code PRAGMA user_version}) and migrated forward on open.
 */
public final class StateStore implements AutoCloseable {
    public static StateStore open(Path file) { throw new UnsupportedOperationException("TODO"); }

    public int schemaVersion() { throw new UnsupportedOperationException("TODO"); }

    public Optional<Version> lastGood() { throw new UnsupportedOperationException("TODO"); }
    public void setLastGood(Version v, Instant at) { throw new UnsupportedOperationException("TODO"); }

    public void recordActivation(Version v, Instant at) { throw new UnsupportedOperationException("TODO"); }
    /** Oldest first. */
    public List<Activation> activations() { throw new UnsupportedOperationException("TODO"); }

    public Optional<Rollout> rollout() { throw new UnsupportedOperationException("TODO"); }
    public Rollout startRollout(Version target, Optional<Version> from, Instant at) { throw new UnsupportedOperationException("TODO"); }
    public void rolloutBackup(long id, String user, Path backup) { throw new UnsupportedOperationException("TODO"); }
    public void rolloutHealthy(long id) { throw new UnsupportedOperationException("TODO"); }
    public void rolloutRestarted(long id, String user) { throw new UnsupportedOperationException("TODO"); }
    public void rolloutVerified(long id, String user) { throw new UnsupportedOperationException("TODO"); }
    public void rolloutRestored(long id, String user) { throw new UnsupportedOperationException("TODO"); }
    public void rolloutFailed(long id, String why) { throw new UnsupportedOperationException("TODO"); }
    /** Ends the rollout (outcome {@code succeeded}, {@code rolled-back}, {@code abandoned}); {@link #rollout()} is then empty. */
    public void finishRollout(long id, String outcome, Instant at) { throw new UnsupportedOperationException("TODO"); }

    public Set<Version> blocked() { throw new UnsupportedOperationException("TODO"); }
    public void block(Version v, String reason, Instant at) { throw new UnsupportedOperationException("TODO"); }

    public BreakerState breaker() { throw new UnsupportedOperationException("TODO"); }
    public void saveBreaker(BreakerState b) { throw new UnsupportedOperationException("TODO"); }

    public Event event(Instant at, String action, String target, String outcome, String reason) { throw new UnsupportedOperationException("TODO"); }
    /** Newest last. */
    public List<Event> events(Optional<Instant> since, int limit) { throw new UnsupportedOperationException("TODO"); }

    public void journalBegin(JournalEntry e) { throw new UnsupportedOperationException("TODO"); }
    public Optional<JournalEntry> journal() { throw new UnsupportedOperationException("TODO"); }
    public void journalClear() { throw new UnsupportedOperationException("TODO"); }

    /** Small key/value facts (last reconcile outcome, held-back since, ...). */
    public Optional<String> get(String key) { throw new UnsupportedOperationException("TODO"); }
    public void put(String key, String value) { throw new UnsupportedOperationException("TODO"); }

    @Override
    public void close() { throw new UnsupportedOperationException("TODO"); }
}
