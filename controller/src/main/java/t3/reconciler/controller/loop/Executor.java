package t3.reconciler.controller.loop;

import t3.reconciler.controller.crash.CrashPoints;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import t3.reconciler.controller.actuator.proc.FileTrees;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.Backups;
import t3.reconciler.controller.actuator.FleetPort;
import t3.reconciler.controller.actuator.HealthCheck;
import t3.reconciler.controller.actuator.UnitStatus;
import t3.reconciler.controller.actuator.fleet.SlotResult;
import t3.reconciler.model.fleet.SlotHolder;
import t3.reconciler.controller.plan.Action;
import t3.reconciler.controller.plan.Action.*;
import t3.reconciler.controller.plan.Rejection;
import t3.reconciler.controller.plan.Retention;
import t3.reconciler.controller.store.JournalEntry;
import t3.reconciler.controller.store.JournalKind;
import t3.reconciler.controller.store.StepInFlight;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.BreakerState;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.Rollout;
import t3.reconciler.model.User;
import t3.reconciler.model.Version;

/**
 * Does what the planner decided, through the actuators, and records it. Decides nothing: a verdict (a failed health
 * check, a canary that does not pair) is a {@link Rejection}, whose consequence (fail the rollout, or the rollback
 * failed) is the planner package's call; it is recorded and the planner reacts on the next pass. What retention keeps
 * is {@link Retention}'s call. Destructive
 * steps are journaled before they start so {@link Recovery} can finish them after a crash.
 */
public final class Executor {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Pre-bump backups at once: each is a user-side process and a SQLite VACUUM, mostly I/O; more buys little on small hosts. */
    static final int BACKUP_PARALLELISM = 4;
    /** Restores and starts of users who are down, at once: the same bound as the backups, for the same reason. */
    static final int RESTORE_DOWN_PARALLELISM = 4;
    private final Actuators io;
    private final StateStore store;
    private final Clock clock;
    private final Alerter alerter;
    private final CrashPoints crash;

    public Executor(Actuators io, StateStore store, Clock clock, Alerter alerter, CrashPoints crash) {
        this.io = io;
        this.store = store;
        this.clock = clock;
        this.alerter = alerter;
        this.crash = crash;
    }

    /** Throws only for faults (the step may be retried); verdicts come back as a failed {@link Outcome}. */
    public Outcome execute(DesiredState spec, Action action) throws ActuatorException {
        if (action.endsPass()) return Outcome.ok("nothing to execute");
        // Kept until the step returns or throws: the journal covers only the destructive part of a step, so without this
        // a crash just after a backup, an install, a switch or a restart would leave the event log silent about it.
        store.stepBegins(new StepInFlight(action.name(), action.eventTarget()));
        try {
            return action.accept(new Steps(spec));
        } finally {
            store.stepEnded(); // not reached when the process dies: Recovery reports the step
        }
    }

    /** One method per step: the compiler refuses an {@link Action} this does not execute. */
    private final class Steps implements Action.Visitor<Outcome, ActuatorException> {
        private final DesiredState spec;

        Steps(DesiredState spec) { this.spec = spec; }

        @Override public Outcome visit(Converged a) { return Outcome.ok("nothing to execute"); }

        @Override public Outcome visit(Hold a) { return Outcome.ok("nothing to execute"); }

        @Override public Outcome visit(StartRollout a) {
            Rollout r = store.startRollout(a.target(), a.from(), clock.instant());
            return Outcome.ok("rollout " + r.id() + " of " + a.target());
        }

        @Override public Outcome visit(AbandonRollout a) {
            store.finishRollout(rollout().id(), "abandoned", clock.instant());
            return Outcome.ok("abandoned");
        }

        @Override public Outcome visit(Backup a) throws ActuatorException { return backup(spec, a); }

        @Override public Outcome visit(BackupAll a) throws ActuatorException { return backupAll(spec, a); }

        @Override public Outcome visit(Install a) throws ActuatorException { return install(spec, a.version()); }

        @Override public Outcome visit(CheckHealth a) throws ActuatorException { return checkHealth(spec, a); }

        @Override public Outcome visit(Activate a) throws ActuatorException { return activate(a.version(), JournalKind.ACTIVATE); }

        @Override public Outcome visit(Canary a) throws ActuatorException { return canary(spec, a); }

        @Override public Outcome visit(Verify a) throws ActuatorException { return verify(spec, a.user(), a.version(), false); }

        @Override public Outcome visit(Promote a) throws ActuatorException { return promote(spec, a.version()); }

        @Override public Outcome visit(OpenBreaker a) throws ActuatorException { return openBreaker(spec, a); }

        @Override public Outcome visit(RollbackBinary a) throws ActuatorException { return rollbackBinary(a.to()); }

        @Override public Outcome visit(Restore a) throws ActuatorException { return restore(spec, a); }

        @Override public Outcome visit(RestoreDown a) throws ActuatorException { return restoreDown(spec, a); }

        @Override public Outcome visit(FinishRollback a) { return finishRollback(a.failed()); }

        @Override public Outcome visit(ResetBreaker a) {
            BreakerState was = store.breaker();
            store.saveBreaker(BreakerState.closed());
            store.clearUnfreezeRequest();
            // The alerts of the failed bump end with the breaker: Alertmanager closes them (endsAt) instead of timing out.
            was.version().ifPresent(v -> {
                alerter.resolve("T3BumpFailed", "critical", Map.of("version", v.toString()));
                alerter.resolve("T3RolledBack", "warning", Map.of("version", v.toString()));
            });
            if (was.status() == BreakerState.Status.ROLLBACK_FAILED) alerter.resolve("T3RollbackFailed", "critical", Map.of());
            return Outcome.ok("breaker closed");
        }

        @Override public Outcome visit(Block a) {
            store.block(a.version(), a.reason(), clock.instant());
            store.rollbackRequest().ifPresent(r -> store.requestRollback(r.blocked()));
            return Outcome.ok("blocked " + a.version() + " (see 'unblock')");
        }

        @Override public Outcome visit(Unblock a) {
            store.unblock(a.version());
            store.clearUnblockRequest(a.version());
            return Outcome.ok("unblocked " + a.version() + "; it may be tried again");
        }

        @Override public Outcome visit(Approve a) {
            long id = store.rollout().orElseThrow(() -> new IllegalStateException("approve " + a.version() + " without an open rollout")).id();
            store.approve(id, a.stage(), a.by(), clock.instant());
            alerter.resolve("T3AwaitingApproval", "info", Map.of("version", a.version().toString()));
            crash.at("after-approve");
            return Outcome.ok("approved by " + a.by() + " at " + a.stage().label() + "; the rollout of " + a.version() + " goes on");
        }

        @Override public Outcome visit(AbortRollout a) {
            long id = store.rollout().orElseThrow(() -> new IllegalStateException("abort " + a.version() + " without an open rollout")).id();
            store.abortRollout(id, a.why());
            alerter.resolve("T3AwaitingApproval", "info", Map.of("version", a.version().toString()));
            return Outcome.ok("rollout of " + a.version() + " failed on purpose: " + a.why() + "; rolling back");
        }

        @Override public Outcome visit(DiscardApprovalRequest a) {
            store.clearApprovalRequest(a.kind());
            return Outcome.ok("dropped the " + a.kind().label() + " request of " + a.version());
        }

        @Override public Outcome visit(TakeSlot a) throws ActuatorException {
            // An etcd that does not answer is an outage of a forward step: a fault, retried with backoff.
            SlotResult r = fleet("take a slot").lock();
            if (r instanceof SlotResult.Full f) {
                // Not a failure: the next observation sees no free slot and holds at fleet-slots-full until the watch wakes it.
                return Outcome.unchanged("all " + f.max() + " slot(s) held by " + f.holders().stream().map(SlotHolder::host).toList() + "; waiting for one");
            }
            return Outcome.ok(r instanceof SlotResult.Taken t && t.already() ? "slot already held" : "slot taken for the rollout of " + a.version());
        }

        @Override public Outcome visit(ReleaseSlot a) {
            // Housekeeping, never worth stopping the pass for: etcd away means the facts say so next, and the lease frees it anyway.
            try {
                SlotResult r = fleet("release the slot").unlock();
                if (r instanceof SlotResult.Refused f) return Outcome.unchanged("the slot is held under another lease (" + f.holder() + "); left to it");
                return r instanceof SlotResult.Released ? Outcome.ok("slot released") : Outcome.unchanged("no slot held");
            } catch (ActuatorException e) {
                return Outcome.failed("could not release the slot: " + e.getMessage());
            }
        }

        @Override public Outcome visit(BlockForFleet a) {
            try {
                boolean first = fleet("publish a verdict").block(a.version(), a.reason());
                store.markPublished(a.version(), clock.instant());
                return Outcome.ok(first ? "blocked " + a.version() + " for the group" : a.version() + " was blocked for the group already");
            } catch (ActuatorException e) {
                return Outcome.failed("could not publish the verdict on " + a.version() + ": " + e.getMessage() + "; planned again once etcd answers");
            }
        }

        @Override public Outcome visit(RecordPromotion a) {
            try {
                fleet("record a promotion").promoted(a.version());
                return Outcome.ok("promotion of " + a.version() + " recorded for the group");
            } catch (ActuatorException e) {
                return Outcome.failed("could not record the promotion of " + a.version() + ": " + e.getMessage() + "; planned again once etcd answers");
            }
        }

        @Override public Outcome visit(ClearRollbackRequest a) {
            store.clearRollbackRequest();
            return Outcome.ok("every user is on " + a.target() + "; rollback request cleared");
        }
    }

    private Outcome backup(DesiredState spec, Backup a) throws ActuatorException {
        BackupInfo b;
        try {
            b = io.backups().backup(a.user(), spec.databaseOf(a.user()), a.onVersion());
        } catch (ActuatorException e) {
            return backupFailed(a, e);
        }
        backupTaken(a, b);
        crash.at("after-backup");
        return pruneAfter(spec, a, b);
    }

    /**
     * Each user's backup runs in its own user-side process, so they run side by side; what follows each one (the
     * record, quarantine or fault, pruning) is the single-user step's, one user after the other on this thread.
     */
    private Outcome backupAll(DesiredState spec, BackupAll a) throws ActuatorException {
        List<Backups.BackupRequest> requests = a.backups().stream().map(b -> new Backups.BackupRequest(b.user(), spec.databaseOf(b.user()), b.onVersion())).toList();
        List<Backups.Outcome<BackupInfo>> taken = io.backups().backupAll(requests, Math.min(BACKUP_PARALLELISM, requests.size()));
        List<Outcome> results = new ArrayList<>();
        for (int i = 0; i < taken.size(); i++) {
            Backups.Outcome<BackupInfo> t = taken.get(i);
            if (t.ok()) backupTaken(a.backups().get(i), t.value());
            results.add(t.ok() ? null : backupFailed(a.backups().get(i), t.error()));
        }
        // Every backup that succeeded is on record before anything is pruned, as with one user.
        if (taken.stream().anyMatch(Backups.Outcome::ok)) crash.at("after-backup");
        List<Outcome.Part> parts = new ArrayList<>();
        for (int i = 0; i < taken.size(); i++) {
            Outcome o = results.get(i) != null ? results.get(i) : pruneAfter(spec, a.backups().get(i), taken.get(i).value());
            parts.add(new Outcome.Part(a.steps().get(i), o));
        }
        return Outcome.batch(parts);
    }

    private Outcome backupFailed(Backup a, ActuatorException e) {
        if (e.refusesUserFiles()) return quarantine(a.user(), "backup", e);
        // Not the user's files (a full or failing backup disk, SQLite busy or failing): a failed step on record, so
        // T3BackupFailing sees it, and no quarantine. Nothing was recorded for the rollout, so the planner plans
        // this user's pre-bump backup again and never goes past it.
        return Outcome.fault((a.forRollout() ? "pre-bump" : "daily") + " backup of " + a.user() + " failed: " + e.getMessage());
    }

    private void backupTaken(Backup a, BackupInfo b) {
        if (store.liftQuarantine(a.user())) {
            store.event(clock.instant(), "quarantine-lifted", a.user(), "ok", "a backup of " + a.user() + "'s database succeeded; the controller manages it again");
            alerter.resolve("T3UserQuarantined", "warning", Map.of("user", a.user()));
        }
        if (a.forRollout()) store.rolloutBackup(rollout().id(), a.user(), b.path());
    }

    private Outcome pruneAfter(DesiredState spec, Backup a, BackupInfo b) throws ActuatorException {
        List<Path> pruned = io.backups().prune(a.user(), spec.backup().keep(), protectedBackups(a.user()));
        return Outcome.ok(b.path() + " (" + b.bytes() + " bytes" + (pruned.isEmpty() ? "" : ", pruned " + pruned.size()) + ")");
    }

    private Set<Path> protectedBackups(String user) throws ActuatorException {
        return Retention.protectedBackups(user, store.rollout(), io.releases().present(), store.lastGood(), io.backups().list(user));
    }

    private Outcome install(DesiredState spec, Version v) throws ActuatorException {
        journal(JournalKind.INSTALL, v.toString(), Map.of());
        Path prefix = io.releases().prefixOf(v);
        deleteTree(prefix);
        crash.at("mid-install");
        try {
            io.packages().install(spec.packageName(), v, prefix);
            Optional<Version> got = io.packages().installedVersion(spec.packageName(), prefix);
            if (!got.equals(Optional.of(v))) throw ActuatorException.verdict("installed " + v + " but the binary reports " + got.map(Version::toString).orElse("nothing"));
            io.releases().markComplete(v);
        } catch (ActuatorException e) {
            // What a failed npm run left is never a release: gone, so no one mistakes it for one (the marker is absent anyway).
            try {
                deleteTree(prefix);
            } catch (ActuatorException ignored) {
                // the next install of this version starts by removing it again
            }
            store.journalClear();
            if (e.isTransient()) throw e;
            return switch (Rejection.INSTALL.consequence(rollout())) {
                case ROLLBACK_FAILED -> {
                    rollbackFailed("cannot reinstall " + v + ": " + e.getMessage());
                    yield Outcome.failed("rollback: reinstall of " + v + " failed: " + e.getMessage());
                }
                case FAIL_ROLLOUT -> failRollout("install of " + v + ": " + e.getMessage());
            };
        }
        store.journalClear();
        crash.at("after-install");
        return Outcome.ok("installed into " + prefix);
    }

    private Outcome checkHealth(DesiredState spec, CheckHealth a) throws ActuatorException {
        Path seed = a.seed().orElse(null);
        Path empty = null;
        try {
            if (seed == null) {
                Files.createDirectories(spec.healthCheck().scratchDir());
                empty = Files.createTempFile(spec.healthCheck().scratchDir(), "t3-empty-seed-", ".sqlite");
                seed = empty;
            }
            journal(JournalKind.HEALTH_CHECK, a.version().toString(), Map.of());
            // Recovery cleans up exactly what is journaled here, as soon as it exists: this scratch dir, this process.
            HealthCheck.Result r = io.health().check(io.releases().binaryOf(a.version()), seed, spec.healthCheck(), (scratch, server) -> {
                Map<String, Object> d = new LinkedHashMap<>();
                d.put("scratch", scratch.toString());
                server.ifPresent(p -> {
                    d.put("serverPid", p.pid());
                    d.put("serverStartTicks", p.startTicks());
                });
                store.journalDetail(json(d));
                if (server.isPresent()) crash.at("during-health-check");
            });
            store.journalClear();
            if (!r.passed()) return buildRejected("health check (" + r.gate() + "): " + r.detail());
            store.rolloutHealthy(rollout().id());
            return Outcome.ok("passed: " + r.detail());
        } catch (IOException e) {
            throw ActuatorException.transientFault("cannot prepare health-check scratch: " + e.getMessage(), e);
        } finally {
            if (empty != null) deleteQuietly(empty);
        }
    }

    private Outcome activate(Version v, JournalKind what) throws ActuatorException {
        // before-activate: installed and health-checked, not yet reachable through the global link.
        crash.at("before-" + what.label());
        journal(what, v.toString(), Map.of());
        io.releases().activate(v);
        store.recordActivation(v, clock.instant());
        store.journalClear();
        crash.at("after-" + what.label());
        return Outcome.ok("global link -> " + io.releases().binaryOf(v));
    }

    private Outcome canary(DesiredState spec, Canary a) throws ActuatorException {
        Rollout r = rollout();
        String unit = spec.unitOf(a.user());
        journal(JournalKind.CANARY, a.user(), Map.of("unit", unit));
        // Recorded before the restart: from here on this user's DB may be migrated and must be restored on failure.
        store.rolloutRestarted(r.id(), a.user());
        try {
            io.units().restart(unit, spec.healthCheck().startTimeout());
        } catch (ActuatorException e) {
            store.journalClear();
            if (e.isTransient()) throw e;
            return buildRejected("canary " + a.user() + ": restart failed: " + e.getMessage());
        }
        store.journalClear();
        crash.at("after-restart-" + a.user());
        return verify(spec, a.user(), a.version(), true);
    }

    private Outcome verify(DesiredState spec, String user, Version v, boolean justRestarted) throws ActuatorException {
        User u = spec.user(user).orElseThrow();
        long pid = io.units().status(spec.unitOf(user)).mainPid();
        HealthCheck.Result r = io.pairing().verify(u, pid, baseDirOf(spec, user), io.releases().binaryOf(v), spec);
        if (!r.passed()) return buildRejected("canary " + user + " (" + r.gate() + "): " + r.detail());
        store.rolloutVerified(rollout().id(), user);
        return Outcome.ok((justRestarted ? "restarted, " : "") + "paired: " + r.detail());
    }

    private Outcome promote(DesiredState spec, Version v) throws ActuatorException {
        // The planner only looks at active units, so a user whose server died on v after its restart (and before
        // its verification: a crash in between) would be promoted past. Restarted onto v means verified on v.
        Optional<Rollout> open = store.rollout();
        if (open.isPresent()) {
            List<String> unverified = new ArrayList<>();
            for (String user : open.get().restarted().stream().sorted().toList()) {
                if (open.get().verified().contains(user) || spec.user(user).isEmpty()) continue;
                unverified.add(user + " (" + io.units().status(spec.unitOf(user)).activeState() + ")");
            }
            if (!unverified.isEmpty()) return buildRejected("canary " + String.join(", ", unverified) + ": restarted onto " + v + " but never verified on it");
        }
        crash.at("before-last-good");
        store.setLastGood(v, clock.instant());
        if (!store.breaker().isClosed()) store.saveBreaker(BreakerState.closed());
        store.rollout().ifPresent(r -> store.finishRollout(r.id(), "succeeded", clock.instant()));
        pruneVersions(spec, v);
        return Outcome.ok(v + " is last-good");
    }

    private void pruneVersions(DesiredState spec, Version lastGood) throws ActuatorException {
        io.releases().prune(Retention.versionsToKeep(lastGood, io.releases().active(), io.releases().present(), spec.install().keepVersions()));
    }

    private Outcome openBreaker(DesiredState spec, OpenBreaker a) throws ActuatorException {
        BreakerState prev = store.breaker();
        Instant now = clock.instant();
        if (spec.breaker().policy() == DesiredState.BreakerPolicy.FREEZE) {
            // Written before the breaker row: a crash in between leaves a frozen machine, never a breaker that resets itself.
            writeFreezeFile(spec.controller().freezeFile(), "self-freeze " + now + ": " + a.version() + " failed: " + a.failure()
                    + "\nRemove this file (or run 't3-reconciler unfreeze') to resume bumps.\n");
        }
        int failures = prev.isClosed() ? 1 : prev.failures() + 1;
        store.saveBreaker(new BreakerState(BreakerState.Status.OPEN, Optional.of(a.version()), Optional.of(a.failure()), Optional.of(now), failures));
        store.block(a.version(), a.failure(), now);
        alerter.fire("T3BumpFailed", "critical", a.version() + " failed: " + a.failure(), Map.of("version", a.version().toString()));
        crash.at("after-open-breaker");
        return Outcome.ok("blocked " + a.version() + ", breaker open (" + failures + " consecutive)");
    }

    private Outcome rollbackBinary(Version to) throws ActuatorException {
        try {
            return activate(to, JournalKind.ROLLBACK_BINARY);
        } catch (ActuatorException e) {
            // An outage is retried; only a refusal needs an operator.
            if (!e.isTransient()) rejected(Rejection.ROLLBACK_STEP, "cannot point the link back at " + to + ": " + e.getMessage());
            throw e;
        }
    }

    private Outcome restore(DesiredState spec, Restore a) throws ActuatorException {
        Rollout r = rollout();
        String unit = spec.unitOf(a.user());
        UnitStatus before = io.units().status(unit);
        boolean wasActive = before.active();
        boolean start = runsAfterRestore(r, a.user(), before);
        journal(JournalKind.RESTORE, a.user(), Map.of("unit", unit, "backup", a.backup().toString(), "start", start));
        Backups.RestoreReport report;
        try {
            // Checked before the unit is stopped: a backup that would be refused must not leave a running server down.
            requireVerified(a, unit + " left as it is");
            if (wasActive) io.units().stop(unit, spec.healthCheck().startTimeout());
            crash.at("mid-restore");
            report = io.backups().restore(a.user(), a.backup(), spec.databaseOf(a.user()));
            if (start) io.units().start(unit, spec.healthCheck().startTimeout());
        } catch (ActuatorException e) {
            if (e.refusesUserFiles()) {
                // One user's files, not the rollback: that user is left alone (their server back up on what it has),
                // everyone else is still restored.
                store.journalClear();
                if (wasActive || start) startQuietly(unit, spec);
                return quarantine(a.user(), "restore", e);
            }
            if (!e.isTransient()) {
                // A refusal is final: no journal left for Recovery to redo it (stopping the unit again) on every pass,
                // and a server stopped for it goes back up on the database it had. An outage keeps its journal.
                store.journalClear();
                if (wasActive) startQuietly(unit, spec);
                rejected(Rejection.ROLLBACK_STEP, "restore of " + a.user() + " failed: " + e.getMessage());
            }
            throw e;
        }
        store.journalClear();
        store.rolloutRestored(r.id(), a.user());
        crash.at("after-restore-" + a.user());
        String detail = restored(a, report);
        return start ? pairAfterRestore(spec, r, a, detail) : Outcome.ok(detail);
    }

    /** @throws ActuatorException a verdict when {@code x}'s backup is missing or no longer matches its sha256; {@code untouched} says what was left as it was */
    private void requireVerified(Restore x, String untouched) throws ActuatorException {
        if (io.backups().list(x.user()).stream().noneMatch(b -> b.path().equals(x.backup()) && b.verified())) {
            throw ActuatorException.verdict("refusing to restore " + x.backup() + " over " + x.user() + "'s database: it is missing or fails"
                    + " its sha256 check (changed since it was taken); " + untouched);
        }
    }

    /** A restore's detail; e2e tests read the archive and the rows lost from this wording. */
    private static String restored(Restore x, Backups.RestoreReport report) {
        return "restored " + x.backup().getFileName() + "; replaced database archived at " + report.archive()
                + "; " + report.projectionRowsLost() + " projection rows written after the backup are only in the archive";
    }

    /**
     * A unit that runs, that our canary restarted, or that was started (by anyone: systemd's Restart=, a reboot, an
     * operator) during this rollout onto its build was meant to run: it comes back up even if that build left it down.
     * One down since before the rollout stays down (a deliberate downgrade's target may have run long ago).
     */
    private boolean runsAfterRestore(Rollout r, String user, UnitStatus unit) {
        return unit.active() || r.restarted().contains(user)
                || unit.execMainStart().filter(t -> t.isAfter(r.startedAt())).flatMap(t -> Observer.versionAt(store.activations(), t)).equals(Optional.of(r.target()));
    }

    /**
     * The restores of users who are all down, side by side: {@link #restore}'s checks, journal, records, start and
     * pairing, per user, with the same consequences per user. A unit that came up since it was observed is left out
     * (its outcome says so): a live server is stopped only by a restore of its own, one at a time.
     */
    private Outcome restoreDown(DesiredState spec, RestoreDown a) throws ActuatorException {
        Rollout r = rollout();
        List<Restore> all = a.restores();
        Map<String, Outcome> results = new HashMap<>();
        List<Restore> batch = new ArrayList<>();
        Map<String, Boolean> start = new HashMap<>();
        for (Restore x : all) {
            UnitStatus unit = io.units().status(spec.unitOf(x.user()));
            if (unit.active()) {
                results.put(x.user(), Outcome.unchanged(spec.unitOf(x.user()) + " came up since it was observed; restored on its own, one live user at a time"));
            } else {
                batch.add(x);
                start.put(x.user(), runsAfterRestore(r, x.user(), unit));
            }
        }
        // Checked before anything is touched, as for one user: a backup that would be refused stops the whole batch.
        for (Restore x : batch) {
            try {
                requireVerified(x, "nothing of this batch (" + a.eventTarget() + ") was touched");
            } catch (ActuatorException e) {
                rejected(Rejection.ROLLBACK_STEP, "restore of " + x.user() + " failed: " + e.getMessage());
                throw e;
            }
        }
        if (!batch.isEmpty()) {
            List<Map<String, Object>> listed = new ArrayList<>();
            for (Restore x : batch) listed.add(Map.of("user", x.user(), "unit", spec.unitOf(x.user()), "backup", x.backup().toString(), "start", start.get(x.user())));
            journal(JournalKind.RESTORE_DOWN, String.join(",", batch.stream().map(Restore::user).toList()), Map.of("users", listed));
            crash.at("mid-restore-down");
            List<Backups.RestoreRequest> requests = batch.stream().map(x -> new Backups.RestoreRequest(x.user(), x.backup(), spec.databaseOf(x.user()))).toList();
            List<Backups.Outcome<Backups.RestoreReport>> done = io.backups().restoreAll(requests, Math.min(RESTORE_DOWN_PARALLELISM, requests.size()));
            boolean outage = false;
            List<Restore> toStart = new ArrayList<>();
            Map<String, Backups.RestoreReport> reports = new HashMap<>();
            for (int i = 0; i < batch.size(); i++) {
                Restore x = batch.get(i);
                Backups.Outcome<Backups.RestoreReport> o = done.get(i);
                if (o.ok()) {
                    store.rolloutRestored(r.id(), x.user());
                    reports.put(x.user(), o.value());
                    if (start.get(x.user())) toStart.add(x);
                } else if (o.error().refusesUserFiles()) {
                    // One user's files, not the rollback: that user is left alone (their server back up on what it has).
                    if (start.get(x.user())) toStart.add(x);
                    results.put(x.user(), quarantine(x.user(), "restore", o.error()));
                } else if (o.error().isTransient()) {
                    // An outage keeps the journal: Recovery redoes this user's restore before the next plan.
                    outage = true;
                    results.put(x.user(), Outcome.fault("restore of " + x.user() + " failed: " + o.error().getMessage() + "; redone by recovery"));
                } else {
                    results.put(x.user(), rejected(Rejection.ROLLBACK_STEP, "restore of " + x.user() + " failed: " + o.error().getMessage()));
                }
            }
            crash.at("after-restore-down");
            Map<String, String> units = new LinkedHashMap<>();
            for (Restore x : toStart) units.put(x.user(), spec.unitOf(x.user()));
            Map<String, ActuatorException> startFailed = ParallelStarts.start(io.units(), units, spec.healthCheck().startTimeout(), RESTORE_DOWN_PARALLELISM);
            for (Map.Entry<String, ActuatorException> f : startFailed.entrySet()) {
                // A quarantined user's server was started on what it has, as after a refused single restore: best effort.
                if (!reports.containsKey(f.getKey())) continue;
                if (f.getValue().isTransient()) outage = true;
                Outcome o = f.getValue().isTransient()
                        ? Outcome.fault("start of " + spec.unitOf(f.getKey()) + " after its restore failed: " + f.getValue().getMessage() + "; started by recovery")
                        : rejected(Rejection.ROLLBACK_STEP, "restore of " + f.getKey() + " failed: " + f.getValue().getMessage());
                results.putIfAbsent(f.getKey(), o);
            }
            if (!outage) store.journalClear();
            for (Restore x : batch) {
                if (results.containsKey(x.user())) continue;
                // The single restore's wording first (readers parse it), then what the batch adds.
                String detail = restored(x, reports.get(x.user())) + "; restored beside " + (batch.size() - 1) + " other user(s) who were down";
                results.put(x.user(), start.get(x.user()) ? pairAfterRestore(spec, r, x, detail) : Outcome.ok(detail));
            }
        }
        List<Outcome.Part> parts = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) parts.add(new Outcome.Part(a.steps().get(i), results.get(all.get(i).user())));
        return Outcome.batch(parts);
    }

    /** A restored user whose server runs again must pair on the version restored to, as after {@link #restore}. */
    private Outcome pairAfterRestore(DesiredState spec, Rollout r, Restore x, String detail) throws ActuatorException {
        User u = spec.user(x.user()).orElseThrow();
        long pid = io.units().status(spec.unitOf(x.user())).mainPid();
        HealthCheck.Result v = io.pairing().verify(u, pid, baseDirOf(spec, x.user()), io.releases().binaryOf(x.backupVersion()), spec);
        if (v.passed()) return Outcome.ok(detail);
        return switch (Rejection.RESTORED_USER_DOES_NOT_PAIR.consequence(r)) {
            case FAIL_ROLLOUT -> failRollout("downgrade of " + x.user() + " (" + v.gate() + "): " + v.detail());
            case ROLLBACK_FAILED -> {
                rollbackFailed(x.user() + " does not pair after restore (" + v.gate() + "): " + v.detail());
                yield Outcome.failed(detail + "; pairing after restore failed: " + v.detail());
            }
        };
    }

    private void startQuietly(String unit, DesiredState spec) {
        try {
            if (!io.units().status(unit).active()) io.units().start(unit, spec.healthCheck().startTimeout());
        } catch (ActuatorException ignored) {
            // already reported as a failed rollback; the operator sees the unit's state
        }
    }

    private Outcome finishRollback(Version failed) {
        Rollout r = rollout();
        store.finishRollout(r.id(), "rolled-back", clock.instant());
        alerter.fire("T3RolledBack", "warning", failed + " was rolled back: " + r.failure().orElse(""), Map.of("version", failed.toString()));
        return Outcome.ok("rolled back " + failed);
    }

    /** The user's files were refused: recorded, alerted, and from now on the planner plans nothing for this user. */
    private Outcome quarantine(String user, String step, ActuatorException e) {
        store.quarantine(user, step + " refused: " + e.getMessage(), clock.instant());
        alerter.fire("T3UserQuarantined", "warning", user + " quarantined: " + step + " refused: " + e.getMessage(), Map.of("user", user));
        return Outcome.failed("quarantined " + user + ": " + e.getMessage());
    }

    /** A verdict on the build: what it means is {@link Rejection#consequence}'s call. */
    private Outcome buildRejected(String why) { return rejected(Rejection.BUILD_CHECK, why); }

    private Outcome rejected(Rejection r, String why) {
        return switch (r.consequence(rollout())) {
            case FAIL_ROLLOUT -> failRollout(why);
            case ROLLBACK_FAILED -> {
                rollbackFailed(why);
                yield Outcome.failed(why);
            }
        };
    }

    private Outcome failRollout(String why) {
        store.rolloutFailed(rollout().id(), why);
        return Outcome.failed(why);
    }

    private void rollbackFailed(String why) {
        BreakerState b = store.breaker();
        store.saveBreaker(new BreakerState(BreakerState.Status.ROLLBACK_FAILED, b.version(), Optional.of(why), Optional.of(clock.instant()), Math.max(1, b.failures())));
        alerter.fire("T3RollbackFailed", "critical", why, Map.of());
    }

    private FleetPort fleet(String what) throws ActuatorException {
        return io.fleet().orElseThrow(() -> ActuatorException.transientFault("cannot " + what + ": the fleet is not open (see the fleet-open log line)", null));
    }

    private Rollout rollout() {
        return store.rollout().orElseThrow(() -> new IllegalStateException("the planner asked for a rollout step but no rollout is recorded"));
    }

    private void journal(JournalKind kind, String target, Map<String, Object> detail) {
        store.journalBegin(new JournalEntry(kind, target, json(detail), clock.instant()));
    }

    private static String json(Map<String, Object> detail) {
        try {
            return JSON.writeValueAsString(detail);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code ~/.t3} for {@code ~/.t3/userdata/state.sqlite}: what {@code t3 --base-dir} takes. */
    static Path baseDirOf(DesiredState spec, String user) {
        Path db = spec.databaseOf(user);
        return db.getParent().getParent();
    }

    static void writeFreezeFile(Path file, String content) throws ActuatorException {
        try {
            FreezeFile.write(file, content);
        } catch (IOException e) {
            throw ActuatorException.transientFault("cannot write freeze file " + file + ": " + e.getMessage(), e);
        }
    }

    static void deleteTree(Path p) throws ActuatorException {
        try {
            FileTrees.delete(p);
        } catch (IOException e) {
            throw ActuatorException.transientFault("cannot remove " + p + ": " + e.getMessage(), e);
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // scratch in /var/tmp; nothing depends on it being gone
        }
    }
}
