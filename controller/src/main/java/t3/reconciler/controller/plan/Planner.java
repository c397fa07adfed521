package t3.reconciler.controller.plan;

import io.github.resilience4j.core.IntervalFunction;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import t3.reconciler.controller.plan.Action.*;
import t3.reconciler.model.ApprovalRequest;
import t3.reconciler.model.ApprovalStage;
import t3.reconciler.model.BreakerState;
import t3.reconciler.model.Channel;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.ObservedState;
import t3.reconciler.model.RollbackRequest;
import t3.reconciler.model.Rollout;
import t3.reconciler.model.UnblockRequest;
import t3.reconciler.model.UnfreezeRequest;
import t3.reconciler.model.User;
import t3.reconciler.model.UserState;
import t3.reconciler.model.Version;

/**
 * The decision, and nothing else: {@code (desired, observed) -> next step + why}. No I/O, no clock but
 * {@code observed.now()}, so every gate is a table test.
 *
 * <p>Order of concerns: the operator's unfreeze/unblock, then promote/abort (an abort fails the rollout in flight) →
 * finish rolling back a failed bump (never gated) → the operator's rollback request (overrides
 * freeze, breaker and channel) → daily backups (not gated by freeze)
 * → the fleet's housekeeping (publish a verdict, release a slot, record a promotion) → breaker → freeze → fleet freeze
 * → resolve target → channel, blocked, fleet-blocked and downgrade guards → converged? → window → [fleet: a quorum and
 * the waves] → the bump: record, back up everyone, install aside, health-check on real data, [approval: manual waits
 * for promote], [fleet: quorum, lease, slot] activate, canary idle users one at a time, each behind the same fleet gate
 * [pauseAfter N waits for promote once N are verified] → promote. {@link FleetGates} has the fleet's part.
 */
public final class Planner {
    private Planner() {}

    /** The version a pass works toward, and the sentence that says why. */
    record Target(Version version, String why) {
        Target finishingFirst(Version v, String because) { return new Target(v, why + because); }
    }

    /** A gate's answer: stop with this decision, or go on with a value. */
    private record Gated<T>(Optional<Decision> stop, T value) {
        static <T> Gated<T> stop(Decision d) { return new Gated<>(Optional.of(d), null); }

        static <T> Gated<T> pass(T value) { return new Gated<>(Optional.empty(), value); }
    }

    /** The state diagram of docs/architecture.md, top to bottom: each line a gate that may end the plan. */
    public static Decision next(DesiredState spec, ObservedState obs) {
        Optional<Decision> asked = operatorRequest(obs.unfreezeRequest(), obs.unblockRequests());
        if (asked.isPresent()) return asked.get();
        Optional<Decision> approval = approvalRequest(obs);
        if (approval.isPresent()) return approval.get();
        Optional<Rollout> rollout = obs.rollout();
        if (rollout.isPresent() && rollout.get().failed()) return rollBack(spec, obs, rollout.get());
        if (obs.rollbackRequest().isPresent()) return rollbackRequested(spec, obs, obs.rollbackRequest().get());
        Optional<Decision> stop = FleetGates.housekeeping(spec, obs).or(() -> dailyBackup(spec, obs, rollout)).or(() -> breakerGate(spec, obs))
                .or(() -> freezeGate(spec, obs)).or(() -> FleetGates.frozen(spec, obs));
        if (stop.isPresent()) return stop.get();
        Gated<Target> resolved = resolveTarget(spec, obs);
        if (resolved.stop().isPresent()) return resolved.stop().get();
        Gated<Target> target = rolloutInFlight(obs, resolved.value());
        if (target.stop().isPresent()) return target.stop().get();
        Target t = target.value();
        return blockedGate(obs, t).or(() -> FleetGates.blocked(spec, obs, t)).or(() -> halfOpenGate(obs, t)).or(() -> downgradeGuard(spec, obs, t)).orElseGet(() -> bump(spec, obs, t));
    }

    /**
     * The operator's {@code unfreeze} and {@code unblock}, recorded by the CLI: they come before everything (a rollback
     * that could not finish is retried only once the operator unfroze), and need nothing observed but themselves,
     * so the CLI can have them carried out at once when no daemon runs.
     */
    public static Optional<Decision> operatorRequest(Optional<UnfreezeRequest> unfreeze, List<UnblockRequest> unblocks) {
        if (unfreeze.isPresent()) {
            UnfreezeRequest u = unfreeze.get();
            return Optional.of(new Decision(new ResetBreaker(), "the operator ran 'unfreeze' (" + u.by() + " at " + u.at() + ": " + u.reason() + "), which resets the breaker"));
        }
        if (!unblocks.isEmpty()) {
            UnblockRequest u = unblocks.get(0);
            return Optional.of(new Decision(new Unblock(u.version()), "the operator ran 'unblock " + u.version() + "' (" + u.by() + " at " + u.at() + ": " + u.reason() + ")"));
        }
        return Optional.empty();
    }

    /**
     * The operator's {@code abort} of the rollout in flight fails it now (the failed-canary rollback follows); a
     * {@code promote} waits for its gate; either one naming a version no open rollout targets is dropped, so it never
     * applies to a later bump.
     */
    static Optional<Decision> approvalRequest(ObservedState obs) {
        Optional<Rollout> open = obs.rollout().filter(r -> !r.failed());
        for (ApprovalRequest req : obs.approvalRequests()) {
            String asked = "the operator ran '" + req.kind().label() + " " + req.version() + "' (" + req.by() + " at " + req.at() + ": " + req.reason() + ")";
            if (open.isEmpty() || !open.get().target().equals(req.version())) {
                return Optional.of(new Decision(new DiscardApprovalRequest(req.kind(), req.version()), asked + ", but no rollout toward "
                        + req.version() + " is open" + open.map(r -> " (the open one targets " + r.target() + ")").orElse("") + "; dropping the request"));
            }
            if (req.kind() == ApprovalRequest.Kind.ABORT) {
                return Optional.of(new Decision(new AbortRollout(req.version(), "aborted by " + req.by() + ": " + req.reason()),
                        asked + "; failing the rollout so it is rolled back like a failed canary"));
            }
        }
        return Optional.empty();
    }

    /** {@code canary.approval: manual}: a healthy build waits for {@code promote} before the link moves and any user runs it. */
    private static Optional<Decision> manualApprovalGate(DesiredState spec, ObservedState obs, Target t) {
        if (spec.canary().approval() != DesiredState.Approval.MANUAL || obs.installed().equals(Optional.of(t.version()))) return Optional.empty();
        return awaitApproval(obs, t, ApprovalStage.HEALTH_CHECKED, t.version() + " passed its health check; no user runs it yet");
    }

    /** {@code canary.pauseAfter: N}: once N users are verified (and none waits for its check), the others wait for {@code promote}. */
    private static Optional<Decision> pauseAfterGate(DesiredState spec, ObservedState obs, Target t, Rollout r) {
        if (spec.canary().pauseAfter().isEmpty()) return Optional.empty();
        int n = spec.canary().pauseAfter().get();
        List<UserState> active = activeUsers(spec, obs);
        boolean unverifiedOnTarget = active.stream().anyMatch(u -> u.runningVersion().equals(Optional.of(t.version())) && !r.verified().contains(u.name()));
        boolean othersLeft = active.stream().anyMatch(u -> !u.runningVersion().equals(Optional.of(t.version())));
        if (r.verified().size() < n || unverifiedOnTarget || !othersLeft) return Optional.empty();
        return awaitApproval(obs, t, ApprovalStage.USERS_VERIFIED, r.verified().size() + " user(s) verified on " + t.version()
                + " (" + String.join(", ", r.verified().stream().sorted().toList()) + "; pauseAfter " + n + ")");
    }

    private static Optional<Decision> awaitApproval(ObservedState obs, Target t, ApprovalStage stage, String where) {
        if (obs.approved().contains(stage)) return Optional.empty();
        Optional<ApprovalRequest> promote = obs.approvalRequest(ApprovalRequest.Kind.PROMOTE, t.version());
        if (promote.isPresent()) {
            ApprovalRequest p = promote.get();
            return Optional.of(new Decision(new Approve(t.version(), stage, p.by()), where + "; the operator ran 'promote " + t.version() + "' ("
                    + p.by() + " at " + p.at() + ": " + p.reason() + ")"));
        }
        return Optional.of(hold(Hold.until(Gate.AWAITING_APPROVAL), where + "; waiting for 't3-reconciler promote' (or 'abort' to roll it back)"));
    }

    /** Daily backups are not gated by freeze; skipped while a rollout runs (it takes its own). */
    private static Optional<Decision> dailyBackup(DesiredState spec, ObservedState obs, Optional<Rollout> rollout) {
        return rollout.isEmpty() ? dailyBackup(spec, obs) : Optional.empty();
    }

    /** Not closed: a rollback that failed, a self-freeze, or a backoff not over yet holds; a backoff that is over half-opens (empty). */
    private static Optional<Decision> breakerGate(DesiredState spec, ObservedState obs) {
        BreakerState breaker = obs.breaker();
        if (breaker.isClosed()) return Optional.empty();
        String what = "breaker " + breaker.status().name().toLowerCase().replace('_', '-') + " since " + breaker.openedAt().map(Instant::toString).orElse("?")
                + ": " + breaker.version().map(v -> "version " + v + " failed: ").orElse("") + breaker.reason().orElse("");
        if (breaker.status() == BreakerState.Status.ROLLBACK_FAILED) {
            return Optional.of(hold(Hold.until(Gate.BREAKER), what + "; the last-good version could not be put back: repair by hand, then run 'unfreeze'"));
        }
        if (spec.breaker().policy() == DesiredState.BreakerPolicy.FREEZE) {
            if (obs.freezeFile().isEmpty()) {
                return Optional.of(new Decision(new ResetBreaker(), "the operator removed the freeze file " + spec.controller().freezeFile() + ", which lifts the self-freeze (" + what + ")"));
            }
            return Optional.of(hold(Hold.until(Gate.BREAKER), what + "; remove " + spec.controller().freezeFile() + " or run 'unfreeze' to resume"));
        }
        Instant halfOpenAt = halfOpenAt(spec, breaker);
        if (obs.now().isBefore(halfOpenAt)) {
            return Optional.of(hold(Hold.recheck(Gate.BREAKER, Duration.between(obs.now(), halfOpenAt)), what + "; backoff policy half-opens at " + halfOpenAt));
        }
        return Optional.empty();
    }

    private static Optional<Decision> freezeGate(DesiredState spec, ObservedState obs) {
        if (spec.freeze()) return Optional.of(hold(Hold.until(Gate.FREEZE), "frozen by the desired-state file (freeze: true)"));
        if (obs.freezeFile().isPresent()) {
            String why = obs.freezeFile().get().isBlank() ? "" : ": " + obs.freezeFile().get().strip();
            return Optional.of(hold(Hold.until(Gate.FREEZE), "frozen by the operator freeze file " + spec.controller().freezeFile() + why));
        }
        return Optional.empty();
    }

    /** The pin, else the channel's tag as the registry resolves it, refused when the channel does not take that build. */
    private static Gated<Target> resolveTarget(DesiredState spec, ObservedState obs) {
        if (spec.pin().isPresent()) return Gated.pass(new Target(spec.pin().get(), "pin " + spec.pin().get()));
        Optional<Version> candidate = obs.candidate().version();
        if (candidate.isEmpty()) {
            return Gated.stop(hold(Hold.outage(Gate.RESOLVE), "cannot resolve " + spec.packageName() + "@" + spec.track().tag() + ": " + obs.candidate().error().orElse("not asked")));
        }
        Version target = candidate.get();
        String why = spec.packageName() + "@" + spec.track().tag() + " = " + target;
        if (spec.track() == Channel.NIGHTLY && !target.isNightly()) {
            return Gated.stop(hold(Hold.until(Gate.CHANNEL), why + " is not a nightly build; the mutable tag is refused"));
        }
        if (spec.track() == Channel.LATEST && target.isPrerelease()) {
            return Gated.stop(hold(Hold.until(Gate.CHANNEL), why + " is a prerelease; the latest channel only takes releases"));
        }
        return Gated.pass(new Target(target, why));
    }

    /** A rollout toward another version: one that reached users finishes first (if the new target is newer), one that did not is abandoned. */
    private static Gated<Target> rolloutInFlight(ObservedState obs, Target t) {
        Optional<Rollout> rollout = obs.rollout();
        if (rollout.isEmpty() || rollout.get().target().equals(t.version())) return Gated.pass(t);
        Rollout r = rollout.get();
        boolean activated = obs.installed().equals(Optional.of(r.target()));
        if (activated && t.version().isNewerThan(r.target())) return Gated.pass(t.finishingFirst(r.target(), ", but the rollout of " + r.target() + " reached users and finishes first"));
        if (!activated) return Gated.stop(new Decision(new AbandonRollout(r.target()), t.why() + " replaces the rollout of " + r.target() + ", which never reached a user"));
        return Gated.pass(t);
    }

    private static Optional<Decision> blockedGate(ObservedState obs, Target t) {
        if (!obs.blocked().contains(t.version())) return Optional.empty();
        return Optional.of(hold(Hold.until(Gate.BLOCKED), t.why() + ", which failed before and is blocked; waiting for a newer build (or 'unblock " + t.version() + "')"));
    }

    /** A half-open breaker lets through only a build newer than the one that failed. */
    private static Optional<Decision> halfOpenGate(ObservedState obs, Target t) {
        BreakerState breaker = obs.breaker();
        if (breaker.isClosed() || breaker.version().isEmpty() || t.version().isNewerThan(breaker.version().get())) return Optional.empty();
        return Optional.of(hold(Hold.until(Gate.BREAKER), "breaker half-open: " + t.why() + " is not newer than the failed " + breaker.version().get()));
    }

    /** An older target: a pin goes through the deliberate downgrade; a tag that moved backward is refused. */
    private static Optional<Decision> downgradeGuard(DesiredState spec, ObservedState obs, Target t) {
        Version target = t.version();
        Optional<Version> installed = obs.installed();
        Optional<Version> downgradeFrom = obs.rollout().filter(r -> r.target().equals(target)).flatMap(Rollout::from).filter(target::isOlderThan);
        if (downgradeFrom.isPresent()) return Optional.of(downgrade(spec, obs, target, t.why() + ", a downgrade from " + downgradeFrom.get()));
        if (spec.pin().isPresent() && installed.isPresent() && target.isOlderThan(installed.get())) {
            return Optional.of(downgrade(spec, obs, target, t.why() + " is older than installed " + installed.get()));
        }
        if (spec.pin().isEmpty()) {
            Optional<Version> floor = max(installed, obs.lastGood());
            if (floor.isPresent() && target.isOlderThan(floor.get())) {
                return Optional.of(hold(Hold.until(Gate.DOWNGRADE), t.why() + ", older than " + floor.get() + ": the tag moved backward; refusing to downgrade (pin a version to do it on purpose)"));
            }
        }
        return Optional.empty();
    }

    /** The bump: record it, back up everyone, install aside, health-check on real data, activate, canary idle users one at a time, promote. */
    private static Decision bump(DesiredState spec, ObservedState obs, Target t) {
        Optional<Decision> early = adopt(spec, obs, t).or(() -> windowGate(spec, obs, t));
        if (early.isPresent()) return early.get();
        Optional<Rollout> rollout = obs.rollout();
        if (rollout.isEmpty()) {
            Optional<Decision> fleet = FleetGates.beforeStart(spec, obs, t);
            if (fleet.isPresent()) return fleet.get();
            return new Decision(new StartRollout(t.version(), obs.installed()), t.why() + "; starting a bump from " + obs.installed().map(Version::toString).orElse("nothing installed"));
        }
        Rollout r = rollout.get();
        return preBumpBackup(spec, obs, t, r)
                .or(() -> install(obs, t))
                .or(() -> healthCheck(spec, t, r))
                .or(() -> manualApprovalGate(spec, obs, t))
                .or(() -> activate(spec, obs, t))
                .or(() -> pauseAfterGate(spec, obs, t, r))
                .or(() -> canary(spec, obs, t, r))
                .orElseGet(() -> new Decision(new Promote(t.version()), "every active user runs " + t.version() + " and paired; promoting it to last-good"));
    }

    /** No rollout, the link on the target and every active user on it: converged, or adopt it as last-good. */
    private static Optional<Decision> adopt(DesiredState spec, ObservedState obs, Target t) {
        Version target = t.version();
        boolean activated = obs.installed().equals(Optional.of(target));
        if (!activated || obs.rollout().isPresent() || !activeUsers(spec, obs).stream().allMatch(u -> u.runningVersion().equals(Optional.of(target)))) return Optional.empty();
        if (obs.lastGood().equals(Optional.of(target))) return Optional.of(new Decision(new Converged(), t.why() + "; installed and running for every user"));
        return Optional.of(new Decision(new Promote(target), t.why() + " is installed and every active user runs it; adopting it as last-good"));
    }

    /** No bump starts (nor activates) outside the maintenance window, unless the operator overrides it. */
    private static Optional<Decision> windowGate(DesiredState spec, ObservedState obs, Target t) {
        boolean activated = obs.installed().equals(Optional.of(t.version()));
        if (activated || obs.windowOverride() || spec.schedule().window().isEmpty()) return Optional.empty();
        DesiredState.Window w = spec.schedule().window().get();
        ZonedDateTime now = obs.now().atZone(spec.schedule().zone());
        if (w.contains(now.toLocalTime())) return Optional.empty();
        ZonedDateTime opens = now.with(w.start()).withSecond(0).withNano(0);
        if (!opens.isAfter(now)) opens = opens.plusDays(1);
        return Optional.of(hold(Hold.recheck(Gate.WINDOW, Duration.between(now, opens)), t.why() + "; outside the maintenance window " + w + " " + spec.schedule().zone() + ", next opens " + opens.toOffsetDateTime()));
    }

    /**
     * Everyone not backed up yet, as one batch, in the users' order up to the first whose version cannot be told: that
     * one holds once the users before it are backed up (as when they were backed up one at a time).
     */
    private static Optional<Decision> preBumpBackup(DesiredState spec, ObservedState obs, Target t, Rollout r) {
        List<Decision> batch = new ArrayList<>();
        for (User user : spec.users()) {
            Optional<UserState> u = obs.user(user.name());
            if (u.isEmpty() || !u.get().databaseExists() || r.backups().containsKey(user.name()) || obs.isQuarantined(user.name())) continue;
            Optional<Version> on = u.get().runningVersion().or(() -> r.from());
            if (on.isEmpty()) {
                if (!batch.isEmpty()) break;
                return Optional.of(hold(Hold.until(Gate.BACKUP), "cannot tell which version " + user.name() + "'s database belongs to (unit not running, nothing installed); not touching it"));
            }
            batch.add(new Decision(new Backup(user.name(), on.get(), true), "pre-bump backup of " + user.name() + " (on " + on.get() + ") before " + t.version() + " can touch it"));
        }
        if (batch.isEmpty()) return Optional.empty();
        String who = String.join(", ", batch.stream().map(d -> d.action().eventTarget()).toList());
        return Optional.of(new Decision(new BackupAll(batch), "pre-bump backups of " + who + " before " + t.version() + " can touch them"));
    }

    private static Optional<Decision> install(ObservedState obs, Target t) {
        if (obs.present().contains(t.version())) return Optional.empty();
        return Optional.of(new Decision(new Install(t.version()), "install " + t.version() + " into its own prefix, out of reach of users and credential minting"));
    }

    /** On a copy of the seed user's pre-bump backup (else any user's, else an empty database). */
    private static Optional<Decision> healthCheck(DesiredState spec, Target t, Rollout r) {
        if (r.healthy()) return Optional.empty();
        String seedUser = spec.healthCheck().seedUser().orElse(spec.users().get(0).name());
        Optional<Path> seed = Optional.ofNullable(r.backups().get(seedUser));
        if (seed.isEmpty()) {
            for (User user : spec.users()) {
                if (r.backups().containsKey(user.name())) {
                    seedUser = user.name();
                    seed = Optional.of(r.backups().get(user.name()));
                    break;
                }
            }
        }
        return Optional.of(new Decision(new CheckHealth(t.version(), seedUser, seed), "health-check " + t.version() + " on a copy of "
                + seed.map(p -> seedUserOf(p) + "'s pre-bump backup").orElse("an empty database (no user has data yet)")));
    }

    private static Optional<Decision> activate(DesiredState spec, ObservedState obs, Target t) {
        if (obs.installed().equals(Optional.of(t.version()))) return Optional.empty();
        Optional<Decision> fleet = FleetGates.beforeForwardStep(spec, obs, t, "switching the link");
        if (fleet.isPresent()) return fleet;
        return Optional.of(new Decision(new Activate(t.version()), t.version() + " passed its health check; switching the global link"));
    }

    /** Verify a user already on the target, else restart the next idle one; busy users are deferred, never interrupted. */
    private static Optional<Decision> canary(DesiredState spec, ObservedState obs, Target t, Rollout r) {
        Version target = t.version();
        List<UserState> active = activeUsers(spec, obs);
        for (UserState u : active) {
            if (u.runningVersion().equals(Optional.of(target)) && !r.verified().contains(u.name())) {
                return Optional.of(new Decision(new Verify(u.name(), target), u.name() + " runs " + target + " but is not verified yet"));
            }
        }
        List<String> deferred = new ArrayList<>();
        for (UserState u : active) {
            if (u.runningVersion().equals(Optional.of(target))) continue;
            if (u.busy()) {
                deferred.add(u.name() + " (" + String.join(", ", u.busyProcesses()) + ")");
                continue;
            }
            Optional<Decision> fleet = FleetGates.beforeForwardStep(spec, obs, t, "restarting " + u.name());
            if (fleet.isPresent()) return fleet;
            return Optional.of(new Decision(new Canary(u.name(), target), "canary: restart idle " + u.name() + " onto " + target
                    + " (runs " + u.runningVersion().map(Version::toString).orElse("an unknown version") + ")"));
        }
        if (!deferred.isEmpty()) {
            return Optional.of(hold(Hold.recheck(Gate.BUSY, spec.canary().deferRecheck()), "deferred, an agent is at work: " + String.join("; ", deferred)));
        }
        return Optional.empty();
    }

    /** A pin older than what is installed: the same rollout machinery, but each user's DB goes back to a backup taken on that version. */
    static Decision downgrade(DesiredState spec, ObservedState obs, Version target, String why) { return downgrade(spec, obs, target, why, false); }

    /**
     * The operator's {@code rollback}: overrides freeze, breaker and channel (it is the operator's explicit word) until
     * every user is on the target, then the request is cleared. A bump in flight toward another version is abandoned
     * first; the users it reached are restored by the downgrade like everyone else.
     */
    static Decision rollbackRequested(DesiredState spec, ObservedState obs, RollbackRequest req) {
        Version t = req.target();
        String why = "rollback to " + t + " requested by " + req.by() + " at " + req.at();
        if (req.blockFrom().isPresent()) {
            Version from = req.blockFrom().get();
            return new Decision(new Block(from, "rolled back to " + t + " by " + req.by()), why + "; blocking " + from + " first, so nothing bumps straight back to it");
        }
        Optional<Rollout> rollout = obs.rollout();
        if (rollout.isPresent() && !rollout.get().target().equals(t)) {
            return new Decision(new AbandonRollout(rollout.get().target()), why + "; it replaces the rollout of " + rollout.get().target());
        }
        if (everyoneOn(spec, obs, t)) {
            return new Decision(new ClearRollbackRequest(t), why + "; done: the link points at " + t + ", every active user runs it and it is last-good");
        }
        return downgrade(spec, obs, t, why, req.force());
    }

    /** No rollout open, the link on {@code t}, {@code t} last-good, and every active user running it: a rollback to {@code t} has nothing left to do. */
    public static boolean everyoneOn(DesiredState spec, ObservedState obs, Version t) {
        return obs.rollout().isEmpty() && obs.installed().equals(Optional.of(t)) && obs.lastGood().equals(Optional.of(t))
                && activeUsers(spec, obs).stream().allMatch(u -> u.runningVersion().equals(Optional.of(t)));
    }

    /** Users whose database exists, is not restored yet, and has no verified backup taken on {@code target}: a downgrade cannot take them back. */
    public static List<String> withoutBackupOn(DesiredState spec, ObservedState obs, Version target) {
        Optional<Rollout> rollout = obs.rollout().filter(r -> r.target().equals(target));
        List<String> missing = new ArrayList<>();
        for (User user : spec.users()) {
            Optional<UserState> u = obs.user(user.name());
            boolean done = rollout.isPresent() && rollout.get().restored().contains(user.name());
            if (u.isPresent() && u.get().databaseExists() && !done && !obs.isQuarantined(user.name())
                    && u.get().newestVerifiedBackupOn(target).isEmpty()) missing.add(user.name());
        }
        return missing;
    }

    /** {@code force}: the operator's rollback --force restores busy users too instead of deferring them. */
    static Decision downgrade(DesiredState spec, ObservedState obs, Version target, String why, boolean force) {
        Optional<Rollout> rollout = obs.rollout();
        List<String> missing = withoutBackupOn(spec, obs, target);
        if (!missing.isEmpty()) {
            return hold(Hold.until(Gate.DOWNGRADE), why + "; refused: no verified backup taken on " + target + " for " + String.join(", ", missing)
                    + ", so their databases cannot go back to its schema");
        }
        if (rollout.isEmpty()) return new Decision(new StartRollout(target, obs.installed()), why + "; starting a deliberate downgrade");
        Rollout r = rollout.get();
        if (!obs.present().contains(target)) return new Decision(new Install(target), why + "; reinstalling " + target + " into its prefix");
        if (!obs.installed().equals(Optional.of(target))) return new Decision(new Activate(target), why + "; switching the global link back");
        List<String> deferred = new ArrayList<>();
        for (User user : spec.users()) {
            Optional<UserState> u = obs.user(user.name());
            if (u.isEmpty() || !u.get().databaseExists() || r.restored().contains(user.name()) || obs.isQuarantined(user.name())) continue;
            if (u.get().busy() && !force) {
                deferred.add(user.name());
                continue;
            }
            var backup = u.get().newestVerifiedBackupOn(target).orElseThrow();
            return new Decision(new Restore(user.name(), backup.path(), target), why + "; restoring " + user.name() + "'s database from " + backup.path().getFileName() + " (taken " + backup.takenAt() + ")");
        }
        if (!deferred.isEmpty()) return hold(Hold.recheck(Gate.BUSY, spec.canary().deferRecheck()), why + "; restore deferred, an agent is at work: " + String.join(", ", deferred));
        return new Decision(new Promote(target), why + "; every user is back on " + target);
    }

    private static Decision rollBack(DesiredState spec, ObservedState obs, Rollout r) {
        Version failed = r.target();
        String failure = r.failure().orElseThrow();
        BreakerState b = obs.breaker();
        if (b.status() == BreakerState.Status.ROLLBACK_FAILED && b.version().equals(Optional.of(failed))) {
            // A step of this rollback was refused (a backup that fails its checks, a link that cannot move): retrying it
            // on every pass would only repeat the refusal and the alert. An operator repairs, then 'unfreeze' retries it.
            return hold(Hold.until(Gate.BREAKER), "rollback of " + failed + " (" + failure + ") could not finish: " + b.reason().orElse("?")
                    + "; the last-good version could not be put back: repair by hand, then run 'unfreeze'");
        }
        if (b.isClosed() || !b.version().equals(Optional.of(failed))) {
            return new Decision(new OpenBreaker(failed, failure), failed + " failed (" + failure + "); blocking it and opening the breaker before rolling back");
        }
        Optional<Decision> verdict = FleetGates.verdictDuringRollback(spec, obs, failed);
        if (verdict.isPresent()) return verdict.get();
        boolean wasDowngrade = r.from().isPresent() && failed.isOlderThan(r.from().get());
        if (wasDowngrade) {
            return hold(Hold.until(Gate.BREAKER), "the deliberate downgrade to " + failed + " failed (" + failure + "); databases were archived, not deleted; needs an operator");
        }
        Optional<Version> to = r.from().or(obs::lastGood);
        if (to.isEmpty()) {
            return hold(Hold.until(Gate.BREAKER), failed + " failed (" + failure + ") and there is no earlier version to roll back to");
        }
        if (!obs.installed().equals(to)) {
            if (!obs.present().contains(to.get())) return new Decision(new Install(to.get()), "rollback: " + to.get() + " is not in its prefix any more; reinstalling it");
            return new Decision(new RollbackBinary(to.get()), "rollback: point the global link back at " + to.get());
        }
        List<String> deferred = new ArrayList<>();
        List<Decision> down = new ArrayList<>();
        List<Decision> live = new ArrayList<>();
        for (User user : spec.users()) {
            Optional<UserState> u = obs.user(user.name());
            if (u.isEmpty() || r.restored().contains(user.name()) || obs.isQuarantined(user.name())) continue;
            // Started on the failed build by anyone (our canary, systemd's Restart=, a reboot, an operator), running or
            // down since: that build may have migrated the database.
            boolean touched = r.restarted().contains(user.name()) || u.get().lastStartedOn().equals(Optional.of(failed));
            Path backup = r.backups().get(user.name());
            if (!touched || backup == null) continue;
            if (u.get().busy()) {
                deferred.add(user.name());
                continue;
            }
            boolean isDown = !u.get().active();
            Decision d = new Decision(new Restore(user.name(), backup, to.get()), "rollback: " + user.name() + " was restarted onto " + failed
                    + ", so its database may be migrated; restoring the pre-bump backup " + backup.getFileName()
                    + (isDown ? " (its server is down: users who are down come first)" : ""));
            // A user the failed build left down serves no one until restored; a live one can wait its turn.
            (isDown ? down : live).add(d);
        }
        if (down.size() == 1) return down.get(0);
        if (!down.isEmpty()) {
            // Nobody is served by a server that is down: their restores and starts cannot interrupt anyone, so they go together.
            String who = String.join(", ", down.stream().map(d -> d.action().eventTarget()).toList());
            return new Decision(new RestoreDown(down), "rollback: restoring " + who + " together: each was started on " + failed
                    + " and is down, so nobody is served by them; users who are down come first, the live ones follow one at a time");
        }
        if (!live.isEmpty()) return live.get(0);
        if (!deferred.isEmpty()) {
            return hold(Hold.recheck(Gate.BUSY, spec.canary().deferRecheck()), "rollback: restore deferred, an agent is at work: " + String.join(", ", deferred));
        }
        List<String> left = spec.users().stream().map(User::name).filter(obs::isQuarantined).toList();
        return new Decision(new FinishRollback(failed), "rollback of " + failed + " complete: binary on " + to.get() + ", restored "
                + (r.restored().isEmpty() ? "nobody (no user had been restarted)" : String.join(", ", r.restored().stream().sorted().toList()))
                + (left.isEmpty() ? "" : "; quarantined, not restored: " + String.join(", ", left)));
    }

    private static Optional<Decision> dailyBackup(DesiredState spec, ObservedState obs) {
        ZonedDateTime now = obs.now().atZone(spec.schedule().zone());
        ZonedDateTime today = now.with(spec.backup().dailyAt()).withSecond(0).withNano(0);
        ZonedDateTime due = today.isAfter(now) ? today.minusDays(1) : today;
        for (User user : spec.users()) {
            Optional<UserState> u = obs.user(user.name());
            if (u.isEmpty() || !u.get().databaseExists()) continue;
            boolean stale = u.get().newestBackup().map(b -> b.takenAt().isBefore(due.toInstant())).orElse(true);
            // A quarantined user's backup is tried once per day: a success lifts the quarantine, a refusal moves `since`.
            if (obs.quarantine(user.name()).filter(q -> !q.since().isBefore(due.toInstant())).isPresent()) continue;
            Optional<Version> on = u.get().runningVersion().or(obs::installed);
            if (stale && on.isPresent()) {
                return Optional.of(new Decision(new Backup(user.name(), on.get(), false), "daily backup of " + user.name() + ": newest is "
                        + u.get().newestBackup().map(b -> "from " + b.takenAt()).orElse("missing") + ", due " + due.toOffsetDateTime()));
            }
        }
        return Optional.empty();
    }

    /** When a {@code backoff} breaker lets a newer build through: initial wait, doubled for each consecutive failure, capped. */
    public static Instant halfOpenAt(DesiredState spec, BreakerState b) {
        DesiredState.Breaker p = spec.breaker();
        IntervalFunction backoff = IntervalFunction.ofExponentialBackoff(p.initialWait(), 2.0, p.maxWait());
        long waitMillis = backoff.apply(Math.max(1, b.failures()));
        return b.openedAt().orElse(Instant.EPOCH).plusMillis(waitMillis);
    }

    /** Users whose servers a bump restarts and verifies: running, and not quarantined (their files are not touched). */
    private static List<UserState> activeUsers(DesiredState spec, ObservedState obs) {
        List<UserState> out = new ArrayList<>();
        for (User user : spec.users()) {
            if (obs.isQuarantined(user.name())) continue;
            obs.user(user.name()).filter(UserState::active).ifPresent(out::add);
        }
        return out;
    }

    private static Optional<Version> max(Optional<Version> a, Optional<Version> b) {
        if (a.isEmpty()) return b;
        if (b.isEmpty()) return a;
        return Optional.of(a.get().isNewerThan(b.get()) ? a.get() : b.get());
    }

    private static String seedUserOf(Path backup) {
        Path parent = backup.getParent();
        return parent == null ? "a user" : parent.getFileName().toString();
    }

    private static Decision hold(Hold h, String reason) { return new Decision(h, reason); }
}
