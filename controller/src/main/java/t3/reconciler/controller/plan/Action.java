package t3.reconciler.controller.plan;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import t3.reconciler.model.ApprovalRequest;
import t3.reconciler.model.ApprovalStage;
import t3.reconciler.model.Version;

/**
 * One safe step the planner asks for. The loop executes one, records it, re-observes and asks again, like a
 * controller-runtime reconcile; {@link Converged} and {@link Hold} end the pass.
 */
public sealed interface Action {
    /** Short name used in logs, events and metrics. */
    String name();

    /** What the step acts on, as events and logs name it: a user, {@code user@version}, a version, or "-". */
    String eventTarget();

    /** The user the step acts on: the log's stable {@code user} key (empty for a step on the whole host). */
    default Optional<String> subjectUser() { return Optional.empty(); }

    /** The version the step acts on or toward: the log's stable {@code version} key. */
    default Optional<Version> subjectVersion() { return Optional.empty(); }

    /**
     * Double dispatch instead of {@code instanceof} chains (pattern matching in {@code switch} is not final in Java
     * 17): every record implements this, so a new {@code Action} does not compile until {@link Visitor} has a method
     * for it, and then every visitor (the executor, ...) does not compile until it handles it.
     */
    <R, X extends Exception> R accept(Visitor<R, X> v) throws X;

    /** One method per step; {@code X} is what the visitor may throw. */
    interface Visitor<R, X extends Exception> {
        R visit(Converged a) throws X;
        R visit(Hold a) throws X;
        R visit(StartRollout a) throws X;
        R visit(AbandonRollout a) throws X;
        R visit(Backup a) throws X;
        R visit(BackupAll a) throws X;
        R visit(Install a) throws X;
        R visit(CheckHealth a) throws X;
        R visit(Activate a) throws X;
        R visit(Canary a) throws X;
        R visit(Verify a) throws X;
        R visit(Promote a) throws X;
        R visit(OpenBreaker a) throws X;
        R visit(RollbackBinary a) throws X;
        R visit(Restore a) throws X;
        R visit(RestoreDown a) throws X;
        R visit(FinishRollback a) throws X;
        R visit(ResetBreaker a) throws X;
        R visit(ClearRollbackRequest a) throws X;
        R visit(Unblock a) throws X;
        R visit(Block a) throws X;
        R visit(Approve a) throws X;
        R visit(AbortRollout a) throws X;
        R visit(DiscardApprovalRequest a) throws X;
        R visit(TakeSlot a) throws X;
        R visit(ReleaseSlot a) throws X;
        R visit(BlockForFleet a) throws X;
        R visit(RecordPromotion a) throws X;
    }

    /** Which step ends a reconcile pass (nothing to execute). */
    default boolean endsPass() { return this instanceof Converged || this instanceof Hold; }

    /** Observed equals desired: nothing to do until the next trigger. */
    record Converged() implements Action {
        public String name() { return "converged"; }

        public String eventTarget() { return "-"; }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /**
     * A gate says not now. {@code gate} names it;
     * {@code recheck} is when the situation may have changed by itself (empty: only a trigger changes it).
     * {@code transientFault}: the gate is an outage (registry, bus), retried with backoff.
     */
    record Hold(Gate gate, Optional<Duration> recheck, boolean transientFault) implements Action {
        public String name() { return "hold"; }

        public String eventTarget() { return "-"; }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }

        public static Hold until(Gate gate) { return new Hold(gate, Optional.empty(), false); }

        public static Hold recheck(Gate gate, Duration after) { return new Hold(gate, Optional.of(after), false); }

        public static Hold outage(Gate gate) { return new Hold(gate, Optional.empty(), true); }
    }

    /** Record a new bump (what it moves from) before touching anything. */
    record StartRollout(Version target, Optional<Version> from) implements Action {
        public String name() { return "start-rollout"; }

        public String eventTarget() { return target.toString(); }

        public Optional<Version> subjectVersion() { return Optional.of(target); }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /** Abandon a bump that never reached users (the target changed before activation). */
    record AbandonRollout(Version target) implements Action {
        public String name() { return "abandon-rollout"; }

        public String eventTarget() { return target.toString(); }

        public Optional<Version> subjectVersion() { return Optional.of(target); }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /** Online backup of one user's database; {@code forRollout} files it as that user's pre-bump backup. */
    record Backup(String user, Version onVersion, boolean forRollout) implements Action {
        public String name() { return "backup"; }

        public String eventTarget() { return user; }

        public Optional<String> subjectUser() { return Optional.of(user); }

        public Optional<Version> subjectVersion() { return Optional.of(onVersion); }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /**
     * The pre-bump backups of several users as one step: they are independent (each user's own database, each taken
     * by that user's own process), so they run side by side; each user's outcome is recorded as that user's own
     * {@link Backup} step, with that step's own reason.
     *
     * @param steps one {@link Backup} per user, each with the reason the planner gives for it
     */
    record BackupAll(List<Decision> steps) implements Action {
        public BackupAll {
            steps = List.copyOf(steps);
            if (steps.isEmpty()) throw new IllegalArgumentException("a batch of backups needs at least one user");
            if (!steps.stream().allMatch(d -> d.action() instanceof Backup)) throw new IllegalArgumentException("a batch of backups holds backups only: " + steps);
        }

        public List<Backup> backups() { return steps.stream().map(d -> (Backup) d.action()).toList(); }

        /** The same name as {@link Backup}: a batch is that step for several users (events, metrics, recovery). */
        public String name() { return "backup"; }

        public String eventTarget() { return String.join(",", backups().stream().map(Backup::user).toList()); }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /** Install a version into its own prefix, where no user and no credential minting can reach it. */
    record Install(Version version) implements Action {
        public String name() { return "install"; }

        public String eventTarget() { return version.toString(); }

        public Optional<Version> subjectVersion() { return Optional.of(version); }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /** Throwaway server of {@code version} on a copy of {@code seed} (empty: no user has data yet). */
    record CheckHealth(Version version, String seedUser, Optional<Path> seed) implements Action {
        public String name() { return "health-check"; }

        public String eventTarget() { return version.toString(); }

        public Optional<Version> subjectVersion() { return Optional.of(version); }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /** Atomically point the global link at {@code version}. */
    record Activate(Version version) implements Action {
        public String name() { return "activate"; }

        public String eventTarget() { return version.toString(); }

        public Optional<Version> subjectVersion() { return Optional.of(version); }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /** Restart one idle user's unit onto the active version and verify pairing. */
    record Canary(String user, Version version) implements Action {
        public String name() { return "canary"; }

        public String eventTarget() { return user + "@" + version; }

        public Optional<String> subjectUser() { return Optional.of(user); }

        public Optional<Version> subjectVersion() { return Optional.of(version); }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /** Verify pairing of a user already running {@code version} (restarted but not yet verified). */
    record Verify(String user, Version version) implements Action {
        public String name() { return "verify"; }

        public String eventTarget() { return user + "@" + version; }

        public Optional<String> subjectUser() { return Optional.of(user); }

        public Optional<Version> subjectVersion() { return Optional.of(version); }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /** Every user runs {@code version} and was verified: it becomes last-good and the breaker closes. */
    record Promote(Version version) implements Action {
        public String name() { return "promote"; }

        public String eventTarget() { return version.toString(); }

        public Optional<Version> subjectVersion() { return Optional.of(version); }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /** A bump failed: block the version, open the breaker (self-freeze) and alert, before any rollback. */
    record OpenBreaker(Version version, String failure) implements Action {
        public String name() { return "open-breaker"; }

        public String eventTarget() { return version.toString(); }

        public Optional<Version> subjectVersion() { return Optional.of(version); }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /** Point the global link back at {@code to}. */
    record RollbackBinary(Version to) implements Action {
        public String name() { return "rollback-binary"; }

        public String eventTarget() { return to.toString(); }

        public Optional<Version> subjectVersion() { return Optional.of(to); }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /** Stop the unit, archive the current DB, put {@code backup} in place, start the unit, verify. */
    record Restore(String user, Path backup, Version backupVersion) implements Action {
        public String name() { return "restore"; }

        public String eventTarget() { return user; }

        public Optional<String> subjectUser() { return Optional.of(user); }

        public Optional<Version> subjectVersion() { return Optional.of(backupVersion); }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /**
     * The restores of several users the failed build left down, as one step: nobody is served by their servers, so
     * their databases are put back side by side and their servers started side by side; a live user is never in here
     * (those are restored one at a time, a {@link Restore} each). Each user's outcome is recorded as that user's own
     * {@link Restore} step, with that step's own reason.
     *
     * @param steps one {@link Restore} per user, each with the reason the planner gives for it
     */
    record RestoreDown(List<Decision> steps) implements Action {
        public RestoreDown {
            steps = List.copyOf(steps);
            if (steps.size() < 2) throw new IllegalArgumentException("a batch of restores needs at least two users (one is a Restore): " + steps);
            if (!steps.stream().allMatch(d -> d.action() instanceof Restore)) throw new IllegalArgumentException("a batch of restores holds restores only: " + steps);
        }

        public List<Restore> restores() { return steps.stream().map(d -> (Restore) d.action()).toList(); }

        public String name() { return "restore-down"; }

        public String eventTarget() { return String.join(",", restores().stream().map(Restore::user).toList()); }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /** Every user the failed bump touched is restored: close the rollout as rolled back and alert. */
    record FinishRollback(Version failed) implements Action {
        public String name() { return "finish-rollback"; }

        public String eventTarget() { return failed.toString(); }

        public Optional<Version> subjectVersion() { return Optional.of(failed); }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /** The operator's rollback moves off {@code version}: blocked first, so nothing bumps straight back to it. */
    record Block(Version version, String reason) implements Action {
        public String name() { return "block"; }

        public String eventTarget() { return version.toString(); }

        public Optional<Version> subjectVersion() { return Optional.of(version); }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /** The operator asked for {@code version} to be tried again ({@code unblock}): off the blocked list. */
    record Unblock(Version version) implements Action {
        public String name() { return "unblock"; }

        public String eventTarget() { return version.toString(); }

        public Optional<Version> subjectVersion() { return Optional.of(version); }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /** The operator lifted the self-freeze (removed the freeze file, or ran {@code unfreeze}): close the breaker. */
    record ResetBreaker() implements Action {
        public String name() { return "reset-breaker"; }

        public String eventTarget() { return "-"; }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /** The operator's rollback reached its target: clear the request so freeze and channel apply again. */
    record ClearRollbackRequest(Version target) implements Action {
        public String name() { return "rollback-done"; }

        public String eventTarget() { return target.toString(); }

        public Optional<Version> subjectVersion() { return Optional.of(target); }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /** The operator's {@code promote} of the paused rollout toward {@code version}: recorded for this rollout and {@code stage} only. */
    record Approve(Version version, ApprovalStage stage, String by) implements Action {
        public String name() { return "approve"; }

        public String eventTarget() { return version.toString(); }

        public Optional<Version> subjectVersion() { return Optional.of(version); }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /** The operator's {@code abort}: the rollout toward {@code version} fails now and is rolled back as a failed canary is. */
    record AbortRollout(Version version, String why) implements Action {
        public String name() { return "abort"; }

        public String eventTarget() { return version.toString(); }

        public Optional<Version> subjectVersion() { return Optional.of(version); }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /** A {@code promote}/{@code abort} naming a version no rollout is open for: dropped, so it never applies to a later bump. */
    record DiscardApprovalRequest(ApprovalRequest.Kind kind, Version version) implements Action {
        public String name() { return "discard-" + kind.label(); }

        public String eventTarget() { return version.toString(); }

        public Optional<Version> subjectVersion() { return Optional.of(version); }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /**
     * Take one of the group's rollout slots before the first step that changes what a user runs (docs/fleet.md). All
     * slots held by others is not a failure: the outcome says so and the next observation holds at {@code fleet-slots-full}.
     */
    record TakeSlot(Version version) implements Action {
        public String name() { return "take-slot"; }

        public String eventTarget() { return version.toString(); }

        public Optional<Version> subjectVersion() { return Optional.of(version); }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /** No rollout is open and this host still holds a slot (after promote, a finished rollback or an abandon): free it for the next host. */
    record ReleaseSlot() implements Action {
        public String name() { return "release-slot"; }

        public String eventTarget() { return "-"; }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /** {@code version} is blocked here and the fleet has no verdict from this host yet: publish it, so no other host tries it. */
    record BlockForFleet(Version version, String reason) implements Action {
        public String name() { return "block-for-fleet"; }

        public String eventTarget() { return version.toString(); }

        public Optional<Version> subjectVersion() { return Optional.of(version); }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }

    /** This host promoted {@code version} and the fleet's promotions lack it: the hosts after the canaries soak from here. */
    record RecordPromotion(Version version) implements Action {
        public String name() { return "record-promotion"; }

        public String eventTarget() { return version.toString(); }

        public Optional<Version> subjectVersion() { return Optional.of(version); }

        public <R, X extends Exception> R accept(Visitor<R, X> v) throws X { return v.visit(this); }
    }
}
