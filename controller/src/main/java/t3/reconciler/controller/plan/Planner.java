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
import t3.reconciler.model.BreakerState;
import t3.reconciler.model.Channel;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.ObservedState;
import t3.reconciler.model.RollbackRequest;
import t3.reconciler.model.Rollout;
import t3.reconciler.model.User;
import t3.reconciler.model.UserState;
import t3.reconciler.model.Version;

/**
 * The decision, and nothing else: {@code (desired, observed) -> next step + why}. No I/O, no clock but
 * {@code observed.now()}, so every gate is a table test.
 *
 * <p>Order of concerns: finish rolling back a failed bump (never gated) → the operator's rollback request (overrides
 * freeze, breaker and channel) → daily backups (not gated by freeze)
 * → breaker → freeze → resolve target → channel, blocked and downgrade guards → converged? → window →
 * the bump: record, back up everyone, install aside, health-check on real data, activate, canary idle users
 * one at a time → promote.
 */
public final class Planner {
    private Planner() {}

    public static Decision next(DesiredState spec, ObservedState obs) {
        Optional<Rollout> rollout = obs.rollout();
        if (rollout.isPresent() && rollout.get().failed()) return rollBack(spec, obs, rollout.get());
        if (obs.rollbackRequest().isPresent()) return rollbackRequested(spec, obs, obs.rollbackRequest().get());

        if (rollout.isEmpty()) {
            Optional<Decision> daily = dailyBackup(spec, obs);
            if (daily.isPresent()) return daily.get();
        }

        BreakerState breaker = obs.breaker();
        boolean halfOpen = false;
        if (!breaker.isClosed()) {
            String what = "breaker " + breaker.status().name().toLowerCase().replace('_', '-') + " since " + breaker.openedAt().map(Instant::toString).orElse("?")
                    + ": " + breaker.version().map(v -> "version " + v + " failed: ").orElse("") + breaker.reason().orElse("");
            if (breaker.status() == BreakerState.Status.ROLLBACK_FAILED) {
                return hold(Hold.until(Gate.BREAKER), what + "; the last-good version could not be put back: repair by hand, then run 'unfreeze'");
            }
            if (spec.breaker().policy() == DesiredState.BreakerPolicy.FREEZE) {
                if (obs.freezeFile().isEmpty()) {
                    return new Decision(new ResetBreaker(), "the operator removed the freeze file " + spec.controller().freezeFile() + ", which lifts the self-freeze (" + what + ")");
                }
                return hold(Hold.until(Gate.BREAKER), what + "; remove " + spec.controller().freezeFile() + " or run 'unfreeze' to resume");
            }
            Instant halfOpenAt = halfOpenAt(spec, breaker);
            if (obs.now().isBefore(halfOpenAt)) {
                return hold(Hold.recheck(Gate.BREAKER, Duration.between(obs.now(), halfOpenAt)), what + "; backoff policy half-opens at " + halfOpenAt);
            }
            halfOpen = true;
        }

        if (spec.freeze()) return hold(Hold.until(Gate.FREEZE), "frozen by the desired-state file (freeze: true)");
        if (obs.freezeFile().isPresent()) {
            String why = obs.freezeFile().get().isBlank() ? "" : ": " + obs.freezeFile().get().strip();
            return hold(Hold.until(Gate.FREEZE), "frozen by the operator freeze file " + spec.controller().freezeFile() + why);
        }

        Version target;
        String targetWhy;
        if (spec.pin().isPresent()) {
            target = spec.pin().get();
            targetWhy = "pin " + target;
        } else {
            Optional<Version> candidate = obs.candidate().version();
            if (candidate.isEmpty()) {
                return hold(Hold.outage(Gate.RESOLVE), "cannot resolve " + spec.packageName() + "@" + spec.track().tag() + ": " + obs.candidate().error().orElse("not asked"));
            }
            target = candidate.get();
            targetWhy = spec.packageName() + "@" + spec.track().tag() + " = " + target;
            if (spec.track() == Channel.NIGHTLY && !target.isNightly()) {
                return hold(Hold.until(Gate.CHANNEL), targetWhy + " is not a nightly build; the mutable tag is refused");
            }
            if (spec.track() == Channel.LATEST && target.isPrerelease()) {
                return hold(Hold.until(Gate.CHANNEL), targetWhy + " is a prerelease; the latest channel only takes releases");
            }
        }

        Optional<Version> installed = obs.installed();
        if (rollout.isPresent() && !rollout.get().target().equals(target)) {
            Rollout r = rollout.get();
            boolean activated = installed.equals(Optional.of(r.target()));
            if (activated && target.isNewerThan(r.target())) {
                targetWhy = targetWhy + ", but the rollout of " + r.target() + " reached users and finishes first";
                target = r.target();
            } else if (!activated) {
                return new Decision(new AbandonRollout(r.target()), targetWhy + " replaces the rollout of " + r.target() + ", which never reached a user");
            }
        }

        if (obs.blocked().contains(target)) {
            return hold(Hold.until(Gate.BLOCKED), targetWhy + ", which failed before and is blocked; waiting for a newer build (or 'unblock " + target + "')");
        }
        if (halfOpen && breaker.version().isPresent() && !target.isNewerThan(breaker.version().get())) {
            return hold(Hold.until(Gate.BREAKER), "breaker half-open: " + targetWhy + " is not newer than the failed " + breaker.version().get());
        }

        Version t = target;
        Optional<Version> downgradeFrom = rollout.filter(r -> r.target().equals(t)).flatMap(Rollout::from).filter(t::isOlderThan);
        if (downgradeFrom.isPresent()) return downgrade(spec, obs, target, targetWhy + ", a downgrade from " + downgradeFrom.get());
        if (spec.pin().isPresent() && installed.isPresent() && target.isOlderThan(installed.get())) {
            return downgrade(spec, obs, target, targetWhy + " is older than installed " + installed.get());
        }
        if (spec.pin().isEmpty()) {
            Optional<Version> floor = max(installed, obs.lastGood());
            if (floor.isPresent() && target.isOlderThan(floor.get())) {
                return hold(Hold.until(Gate.DOWNGRADE), targetWhy + ", older than " + floor.get() + ": the tag moved backward; refusing to downgrade (pin a version to do it on purpose)");
            }
        }

        return bump(spec, obs, target, targetWhy, rollout);
    }

    private static Decision bump(DesiredState spec, ObservedState obs, Version target, String targetWhy, Optional<Rollout> rollout) {
        Optional<Version> installed = obs.installed();
        boolean activated = installed.equals(Optional.of(target));
        List<UserState> active = activeUsers(spec, obs);

        if (activated && rollout.isEmpty() && active.stream().allMatch(u -> u.runningVersion().equals(Optional.of(target)))) {
            if (obs.lastGood().equals(Optional.of(target))) return new Decision(new Converged(), targetWhy + "; installed and running for every user");
            return new Decision(new Promote(target), targetWhy + " is installed and every active user runs it; adopting it as last-good");
        }

        if (!activated && !obs.windowOverride() && spec.schedule().window().isPresent()) {
            DesiredState.Window w = spec.schedule().window().get();
            ZonedDateTime now = obs.now().atZone(spec.schedule().zone());
            if (!w.contains(now.toLocalTime())) {
                ZonedDateTime opens = now.with(w.start()).withSecond(0).withNano(0);
                if (!opens.isAfter(now)) opens = opens.plusDays(1);
                return hold(Hold.recheck(Gate.WINDOW, Duration.between(now, opens)), targetWhy + "; outside the maintenance window " + w + " " + spec.schedule().zone() + ", next opens " + opens.toOffsetDateTime());
            }
        }

        if (rollout.isEmpty()) {
            return new Decision(new StartRollout(target, installed), targetWhy + "; starting a bump from " + installed.map(Version::toString).orElse("nothing installed"));
        }
        Rollout r = rollout.get();

        for (User user : spec.users()) {
            Optional<UserState> u = obs.user(user.name());
            if (u.isEmpty() || !u.get().databaseExists() || r.backups().containsKey(user.name()) || obs.isQuarantined(user.name())) continue;
            Optional<Version> on = u.get().runningVersion().or(() -> r.from());
            if (on.isEmpty()) {
                return hold(Hold.until(Gate.BACKUP), "cannot tell which version " + user.name() + "'s database belongs to (unit not running, nothing installed); not touching it");
            }
            return new Decision(new Backup(user.name(), on.get(), true), "pre-bump backup of " + user.name() + " (on " + on.get() + ") before " + target + " can touch it");
        }

        if (!obs.present().contains(target)) {
            return new Decision(new Install(target), "install " + target + " into its own prefix, out of reach of users and credential minting");
        }

        if (!r.healthy()) {
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
            return new Decision(new CheckHealth(target, seedUser, seed), "health-check " + target + " on a copy of "
                    + seed.map(p -> seedUserOf(p) + "'s pre-bump backup").orElse("an empty database (no user has data yet)"));
        }

        if (!activated) {
            return new Decision(new Activate(target), target + " passed its health check; switching the global link");
        }

        for (UserState u : active) {
            if (u.runningVersion().equals(Optional.of(target)) && !r.verified().contains(u.name())) {
                return new Decision(new Verify(u.name(), target), u.name() + " runs " + target + " but is not verified yet");
            }
        }
        List<String> deferred = new ArrayList<>();
        for (UserState u : active) {
            if (u.runningVersion().equals(Optional.of(target))) continue;
            if (u.busy()) {
                deferred.add(u.name() + " (" + String.join(", ", u.busyProcesses()) + ")");
                continue;
            }
            return new Decision(new Canary(u.name(), target), "canary: restart idle " + u.name() + " onto " + target
                    + " (runs " + u.runningVersion().map(Version::toString).orElse("an unknown version") + ")");
        }
        if (!deferred.isEmpty()) {
            return hold(Hold.recheck(Gate.BUSY, spec.canary().deferRecheck()), "deferred, an agent is at work: " + String.join("; ", deferred));
        }
        return new Decision(new Promote(target), "every active user runs " + target + " and paired; promoting it to last-good");
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
        for (User user : spec.users()) {
            Optional<UserState> u = obs.user(user.name());
            if (u.isEmpty() || r.restored().contains(user.name()) || obs.isQuarantined(user.name())) continue;
            boolean touched = r.restarted().contains(user.name()) || u.get().runningVersion().equals(Optional.of(failed));
            Path backup = r.backups().get(user.name());
            if (!touched || backup == null) continue;
            if (u.get().busy()) {
                deferred.add(user.name());
                continue;
            }
            return new Decision(new Restore(user.name(), backup, to.get()), "rollback: " + user.name() + " was restarted onto " + failed
                    + ", so its database may be migrated; restoring the pre-bump backup " + backup.getFileName());
        }
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
