package t3.reconciler.controller.plan;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import t3.reconciler.model.Version;

/**
 * One safe step the planner asks for. The loop executes one, records it, re-observes and asks again, like a
 * controller-runtime reconcile; {@link Converged} and {@link Hold} end the pass.
 */
public sealed interface Action {
    /** Short name used in logs, events and metrics. */
    String name();

    /** Which step ends a reconcile pass (nothing to execute). */
    default boolean endsPass() { return this instanceof Converged || this instanceof Hold; }

    /** Observed equals desired: nothing to do until the next trigger. */
    record Converged() implements Action {
        public String name() { return "converged"; }
    }

    /**
     * A gate says not now. {@code gate} names it;
     * {@code recheck} is when the situation may have changed by itself (empty: only a trigger changes it).
     * {@code transientFault}: the gate is an outage (registry, bus), retried with backoff.
     */
    record Hold(Gate gate, Optional<Duration> recheck, boolean transientFault) implements Action {
        public String name() { return "hold"; }

        public static Hold until(Gate gate) { return new Hold(gate, Optional.empty(), false); }

        public static Hold recheck(Gate gate, Duration after) { return new Hold(gate, Optional.of(after), false); }

        public static Hold outage(Gate gate) { return new Hold(gate, Optional.empty(), true); }
    }

    /** Record a new bump (what it moves from) before touching anything. */
    record StartRollout(Version target, Optional<Version> from) implements Action {
        public String name() { return "start-rollout"; }
    }

    /** Abandon a bump that never reached users (the target changed before activation). */
    record AbandonRollout(Version target) implements Action {
        public String name() { return "abandon-rollout"; }
    }

    /** Online backup of one user's database; {@code forRollout} files it as that user's pre-bump backup. */
    record Backup(String user, Version onVersion, boolean forRollout) implements Action {
        public String name() { return "backup"; }
    }

    /** Install a version into its own prefix, where no user and no credential minting can reach it. */
    record Install(Version version) implements Action {
        public String name() { return "install"; }
    }

    /** Throwaway server of {@code version} on a copy of {@code seed} (empty: no user has data yet). */
    record CheckHealth(Version version, String seedUser, Optional<Path> seed) implements Action {
        public String name() { return "health-check"; }
    }

    /** Atomically point the global link at {@code version}. */
    record Activate(Version version) implements Action {
        public String name() { return "activate"; }
    }

    /** Restart one idle user's unit onto the active version and verify pairing. */
    record Canary(String user, Version version) implements Action {
        public String name() { return "canary"; }
    }

    /** Verify pairing of a user already running {@code version} (restarted but not yet verified). */
    record Verify(String user, Version version) implements Action {
        public String name() { return "verify"; }
    }

    /** Every user runs {@code version} and was verified: it becomes last-good and the breaker closes. */
    record Promote(Version version) implements Action {
        public String name() { return "promote"; }
    }

    /** A bump failed: block the version, open the breaker (self-freeze) and alert, before any rollback. */
    record OpenBreaker(Version version, String failure) implements Action {
        public String name() { return "open-breaker"; }
    }

    /** Point the global link back at {@code to}. */
    record RollbackBinary(Version to) implements Action {
        public String name() { return "rollback-binary"; }
    }

    /** Stop the unit, archive the current DB, put {@code backup} in place, start the unit, verify. */
    record Restore(String user, Path backup, Version backupVersion) implements Action {
        public String name() { return "restore"; }
    }

    /** Every user the failed bump touched is restored: close the rollout as rolled back and alert. */
    record FinishRollback(Version failed) implements Action {
        public String name() { return "finish-rollback"; }
    }

    /** The operator lifted the self-freeze (removed the freeze file): close the breaker. */
    record ResetBreaker() implements Action {
        public String name() { return "reset-breaker"; }
    }

    /** The operator's rollback reached its target: clear the request so freeze and channel apply again. */
    record ClearRollbackRequest(Version target) implements Action {
        public String name() { return "rollback-done"; }
    }
}
