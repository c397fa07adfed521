package t3.reconciler.controller.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static t3.reconciler.controller.plan.Observed.*;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import t3.reconciler.controller.plan.Action.*;
import t3.reconciler.model.BreakerState;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.DesiredStateLoader;
import t3.reconciler.model.ApprovalRequest;
import t3.reconciler.model.ApprovalStage;
import t3.reconciler.model.ObservedState;
import t3.reconciler.model.Version;
import t3.reconciler.model.fleet.EtcdHealth;

/** Every gate and failure branch of the planner, one named row each: (spec, observed) -> action, and the reason says why. */
class PlannerTest {
    static final String USERS = "users: [alice, bob, carol]\n";
    /** A fleet member named h1; rows append their own keys before the closing brace. */
    static final String FLEET = "fleet: {endpoints: ['http://127.0.0.1:2379'], hostId: h1";

    static DesiredState spec(String extra) {
        try {
            String schedule = extra.contains("schedule:") ? "" : "schedule: {zone: UTC}\n";
            return DesiredStateLoader.parse(USERS + schedule + extra, Path.of("planner-test.yaml"));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** The batch of pre-bump backups toward {@code target}, each user's step with its own reason (what its event says). */
    static BackupAll preBump(Version target, Backup... backups) {
        return new BackupAll(Stream.of(backups).map(b -> new Decision(b, "pre-bump backup of " + b.user() + " (on " + b.onVersion() + ") before " + target + " can touch it")).toList());
    }

    /** The batch of restores of users who are down after {@code failed}, back to {@code to}, each with its own reason. */
    static RestoreDown downBatch(Version failed, Version to, String... users) {
        return new RestoreDown(Stream.of(users).map(u -> new Decision(new Restore(u, backupPath(u, to), to), "rollback: " + u + " was restarted onto " + failed
                + ", so its database may be migrated; restoring the pre-bump backup " + backupPath(u, to).getFileName()
                + " (its server is down: users who are down come first)")).toList());
    }

    static Arguments row(String name, String specExtra, Supplier<Observed> observed, Action expected, String reasonHas) {
        return Arguments.of(name, specExtra, observed, expected, reasonHas);
    }

    static Stream<Arguments> rows() {
        return Stream.of(
            // -- converged and adoption
            row("converged: channel = installed = last-good, everyone on it", "", Observed::new, new Converged(), "every user"),
            row("adopt: what runs everywhere becomes last-good", "", () -> { var o = new Observed(); o.lastGood = Optional.empty(); return o; }, new Promote(A), "adopting"),
            row("pin equal to installed is converged", "pin: " + A, () -> new Observed().candidate(B), new Converged(), "pin " + A),

            // -- freeze and pin gate
            row("freeze in the desired-state file holds", "freeze: true", () -> new Observed().candidate(B), Hold.until(Gate.FREEZE), "freeze: true"),
            row("operator freeze file holds, with its reason", "", () -> { var o = new Observed().candidate(B); o.freezeFile = Optional.of("investigating #42\n"); return o; }, Hold.until(Gate.FREEZE), "investigating #42"),
            row("pin overrides the channel", "pin: " + B, () -> new Observed().candidate(C), new StartRollout(B, Optional.of(A)), "pin " + B),

            // -- resolve and guards
            row("registry unreachable is an outage, retried", "", () -> { var o = new Observed(); o.candidate = ObservedState.Candidate.failed("ECONNREFUSED"); return o; }, Hold.outage(Gate.RESOLVE), "ECONNREFUSED"),
            row("nightly tag pointing at a release is refused", "", () -> new Observed().candidate(RELEASE), Hold.until(Gate.CHANNEL), "not a nightly"),
            row("latest tag pointing at a prerelease is refused", "track: latest", () -> new Observed().candidate(B), Hold.until(Gate.CHANNEL), "prerelease"),
            row("tag moved backward: no downgrade", "", () -> new Observed().candidate(OLD), Hold.until(Gate.DOWNGRADE), "moved backward"),
            row("tag below last-good: no downgrade", "", () -> { var o = new Observed(); o.lastGood = Optional.of(B); return o; }, Hold.until(Gate.DOWNGRADE), "older than " + B),
            row("blocked version is never retried", "", () -> { var o = new Observed().candidate(B); o.blocked.add(B); return o; }, Hold.until(Gate.BLOCKED), "blocked"),

            // -- maintenance window
            row("outside the window no bump starts", "", () -> { var o = new Observed().candidate(B); o.now = Instant.parse("2026-06-08T12:00:00Z"); return o; }, Hold.recheck(Gate.WINDOW, Duration.ofHours(15)), "03:00-06:00"),
            row("the operator's override bumps outside the window", "", () -> { var o = new Observed().candidate(B); o.now = Instant.parse("2026-06-08T12:00:00Z"); o.windowOverride = true; return o; }, new StartRollout(B, Optional.of(A)), "starting a bump"),
            // -- fleet (docs/fleet.md): each fleet condition a Hold gate; a rollback never waits for etcd
            row("fleet: etcd unreachable, no rollout starts", FLEET + "}", () -> new Observed().candidate(B).fleet(f -> { f.etcd = EtcdHealth.UNREACHABLE; return f; }), Hold.outage(Gate.FLEET_UNAVAILABLE), "no rollout starts"),
            row("fleet: no quorum, no rollout starts", FLEET + "}", () -> new Observed().candidate(B).fleet(f -> { f.etcd = EtcdHealth.NO_QUORUM; return f; }), Hold.outage(Gate.FLEET_UNAVAILABLE), "no-quorum"),
            row("fleet: facts never observed read as unreachable", FLEET + "}", () -> new Observed().candidate(B), Hold.outage(Gate.FLEET_UNAVAILABLE), "not observed"),
            row("fleet: with a quorum and no waves a rollout starts", FLEET + "}", () -> new Observed().candidate(B).fleet(f -> f), new StartRollout(B, Optional.of(A)), "starting a bump"),
            row("fleet: steps before the link moves need no slot and no quorum", FLEET + "}", () -> new Observed().candidate(B).rollout(B, A, Progress.BACKED_UP).fleet(f -> { f.etcd = EtcdHealth.UNREACHABLE; return f; }), new Install(B), "own prefix"),
            row("fleet: etcd unreachable mid-rollout holds before the link moves", FLEET + "}", () -> new Observed().candidate(B).present(B).rollout(B, A, Progress.HEALTHY).fleet(f -> { f.etcd = EtcdHealth.UNREACHABLE; return f; }), Hold.outage(Gate.FLEET_UNAVAILABLE), "before switching the link"),
            row("fleet: no quorum mid-rollout holds before the next user restart", FLEET + "}", () -> activated().running("alice", B).restarted("alice").verified("alice").fleet(f -> { f.etcd = EtcdHealth.NO_QUORUM; return f.holding("h1"); }), Hold.outage(Gate.FLEET_UNAVAILABLE), "before restarting bob"),
            row("fleet: a restarted user is still verified without etcd", FLEET + "}", () -> activated().running("alice", B).restarted("alice").fleet(f -> { f.etcd = EtcdHealth.UNREACHABLE; return f; }), new Verify("alice", B), "not verified"),
            row("fleet: a rollback step is planned with etcd unreachable", FLEET + "}", () -> failedOn(B).fleet(f -> { f.etcd = EtcdHealth.UNREACHABLE; return f; }).unpublished(B, "canary bob: no session cookie"), new RollbackBinary(A), "back at " + A),
            row("fleet: a restore is planned without quorum", FLEET + "}", () -> failedOn(B).installedIs(A).fleet(f -> { f.etcd = EtcdHealth.NO_QUORUM; return f; }), new Restore("alice", backupPath("alice", A), A), "restarted onto " + B),
            row("fleet: a failed rollout opens the breaker before anything with etcd down", FLEET + "}", () -> activated().running("alice", B).restarted("alice").failed("canary alice: pairing 401").fleet(f -> { f.etcd = EtcdHealth.UNREACHABLE; return f; }), new OpenBreaker(B, "canary alice: pairing 401"), "opening the breaker"),
            row("fleet: the verdict goes out right after the breaker opens, with a quorum", FLEET + "}", () -> failedOn(B).fleet(f -> f.holding("h1")).unpublished(B, "canary bob: no session cookie"), new BlockForFleet(B, "canary bob: no session cookie"), "before rolling back"),
            row("fleet: an operator's rollback is not gated by etcd", FLEET + "}", () -> withOldBackups().present(OLD).rollout(OLD, A, Progress.STARTED).rollbackTo(OLD, false).fleet(f -> { f.etcd = EtcdHealth.UNREACHABLE; return f; }), new Activate(OLD), "link back"),
            row("fleet: an unpublished verdict is published once the rollback is done", FLEET + "}", () -> new Observed().candidate(B).breakerOpen(B, 1, NOW).fleet(f -> f).unpublished(B, "canary bob: no session cookie"), new BlockForFleet(B, "canary bob: no session cookie"), "not published the verdict yet"),
            row("fleet: without a quorum the verdict waits, the host holds as before", FLEET + "}", () -> { var o = new Observed().candidate(B).breakerOpen(B, 1, NOW).fleet(f -> { f.etcd = EtcdHealth.UNREACHABLE; return f; }).unpublished(B, "x"); o.freezeFile = Optional.of("breaker"); return o; }, Hold.until(Gate.BREAKER), "unfreeze"),
            row("fleet: a verdict blocks the target", FLEET + "}", () -> new Observed().candidate(B).fleet(f -> f.verdict(B, "h2", "canary bob: pairing 401")), Hold.until(Gate.FLEET_BLOCKED), "failed on h2: canary bob: pairing 401"),
            row("fleet: a verdict abandons a rollout that reached no user", FLEET + "}", () -> new Observed().candidate(B).present(B).rollout(B, A, Progress.HEALTHY).fleet(f -> f.verdict(B, "h2", "health")), new AbandonRollout(B), "never reached a user"),
            row("fleet: a verdict fails a rollout that reached users", FLEET + "}", () -> activated().running("alice", B).restarted("alice").verified("alice").fleet(f -> f.holding("h1").verdict(B, "h2", "canary: 401")), new AbortRollout(B, "blocked by the fleet: failed on h2: canary: 401"), "rolled back"),
            row("fleet: a newer build than the blocked one goes", FLEET + "}", () -> new Observed().candidate(C).fleet(f -> f.verdict(B, "h2", "health")), new StartRollout(C, Optional.of(A)), "starting a bump"),
            row("fleet: the fleet freeze holds", FLEET + "}", () -> new Observed().candidate(B).fleet(f -> { f.freeze = Optional.of(new t3.reconciler.model.fleet.FleetFreeze("ops", "incident 7", NOW)); return f; }), Hold.until(Gate.FLEET_FROZEN), "incident 7"),
            row("fleet: the fleet freeze stops a rollout in flight at the step boundary", FLEET + "}", () -> activated().running("alice", B).restarted("alice").verified("alice").fleet(f -> { f.freeze = Optional.of(new t3.reconciler.model.fleet.FleetFreeze("ops", "", NOW)); return f.holding("h1"); }), Hold.until(Gate.FLEET_FROZEN), "fleet unfreeze"),
            row("fleet: the fleet freeze does not stop a rollback", FLEET + "}", () -> failedOn(B).installedIs(A).fleet(f -> { f.freeze = Optional.of(new t3.reconciler.model.fleet.FleetFreeze("ops", "", NOW)); return f; }), new Restore("alice", backupPath("alice", A), A), "restarted onto " + B),
            row("fleet waves: a canary host goes at once", FLEET + ", canaryHosts: [h1, h2]}", () -> new Observed().candidate(B).fleet(f -> f), new StartRollout(B, Optional.of(A)), "starting a bump"),
            row("fleet waves: the others await the canary hosts", FLEET + ", canaryHosts: [c1, c2]}", () -> new Observed().candidate(B).fleet(f -> f.promoted(B, "c1", NOW.minusSeconds(7200))), Hold.until(Gate.FLEET_WAVES), "canary host(s) c2"),
            row("fleet waves: then soak, rechecked when it ends", FLEET + ", canaryHosts: [c1, c2], soak: 1h}", () -> new Observed().candidate(B).fleet(f -> f.promoted(B, "c1", NOW.minusSeconds(7200)).promoted(B, "c2", NOW.minusSeconds(600))), Hold.recheck(Gate.FLEET_WAVES, Duration.ofMinutes(50)), "soaking"),
            row("fleet waves: after the soak the rollout starts", FLEET + ", canaryHosts: [c1], soak: 1h}", () -> new Observed().candidate(B).fleet(f -> f.promoted(B, "c1", NOW.minusSeconds(3600))), new StartRollout(B, Optional.of(A)), "starting a bump"),
            row("fleet waves: a rollout in flight is not re-gated by waves", FLEET + ", canaryHosts: [c1]}", () -> new Observed().candidate(B).rollout(B, A, Progress.BACKED_UP).fleet(f -> f), new Install(B), "own prefix"),
            row("fleet slots: take a slot before the link moves", FLEET + "}", () -> new Observed().candidate(B).present(B).rollout(B, A, Progress.HEALTHY).fleet(f -> f), new TakeSlot(B), "before switching the link"),
            row("fleet slots: with the slot, the link moves", FLEET + "}", () -> new Observed().candidate(B).present(B).rollout(B, A, Progress.HEALTHY).fleet(f -> f.holding("h1")), new Activate(B), "passed its health check"),
            row("fleet slots: all held by others, hold", FLEET + ", maxConcurrentHosts: 2}", () -> new Observed().candidate(B).present(B).rollout(B, A, Progress.HEALTHY).fleet(f -> { f.max = 2; return f.holding("h2", "h3"); }), Hold.until(Gate.FLEET_SLOTS_FULL), "held by h2, h3"),
            row("fleet slots: a slot lost mid-rollout is taken again before the next restart", FLEET + "}", () -> activated().running("alice", B).restarted("alice").verified("alice").fleet(f -> f), new TakeSlot(B), "before restarting bob"),
            row("fleet slots: a slot lost to another host holds the next restart", FLEET + "}", () -> activated().running("alice", B).restarted("alice").verified("alice").fleet(f -> f.holding("h2")), Hold.until(Gate.FLEET_SLOTS_FULL), "before restarting bob"),
            row("fleet slots: a restarted controller takes its own slot over, even with every slot held", FLEET + "}", () -> activated().running("alice", B).restarted("alice").verified("alice").fleet(f -> { f.liveLease = false; return f.holding("h1"); }), new TakeSlot(B), "earlier lease"),
            row("fleet lease lost: stop at the step boundary", FLEET + "}", () -> activated().running("alice", B).restarted("alice").verified("alice").fleet(f -> { f.leaseLost = true; return f; }), Hold.recheck(Gate.FLEET_LEASE_LOST, Duration.ofSeconds(1)), "lease expired"),
            row("fleet: promote needs no etcd", FLEET + "}", () -> activated().running("alice", B).running("bob", B).running("carol", B).verified("alice", "bob", "carol").fleet(f -> { f.etcd = EtcdHealth.UNREACHABLE; return f; }), new Promote(B), "last-good"),
            row("fleet: release the slot after promote", FLEET + "}", () -> new Observed().fleet(f -> f.holding("h1").promoted(A, "h1", NOW)), new ReleaseSlot(), "releasing it"),
            row("fleet: release the slot after a finished rollback, before anything else", FLEET + "}", () -> { var o = new Observed().candidate(B).breakerOpen(B, 1, NOW).fleet(f -> f.holding("h1")); o.freezeFile = Optional.of("breaker"); return o; }, new ReleaseSlot(), "no rollout is open"),
            row("fleet: record the promotion the fleet lacks", FLEET + "}", () -> new Observed().fleet(f -> { f.promotions.clear(); return f; }), new RecordPromotion(A), "no promotion of it from h1"),
            row("fleet: converged once the fleet knows it all", FLEET + "}", () -> new Observed().fleet(f -> f.promoted(A, "h1", NOW)), new Converged(), "every user"),
            row("fleet: converged stays converged without etcd", FLEET + "}", () -> new Observed().fleet(f -> { f.etcd = EtcdHealth.UNREACHABLE; return f; }), new Converged(), "every user"),
            row("window 'always' bumps at noon", "schedule: {zone: UTC, window: always}", () -> { var o = new Observed().candidate(B); o.now = Instant.parse("2026-06-08T12:00:00Z"); return o; }, new StartRollout(B, Optional.of(A)), "starting a bump"),
            row("an activated rollout finishes outside the window", "", () -> { var o = new Observed().candidate(B).present(B).rollout(B, A, Progress.HEALTHY); o.installed = Optional.of(B); o.now = Instant.parse("2026-06-08T12:00:00Z"); return o; }, new Canary("alice", B), "canary"),

            // -- the bump, one step at a time
            row("first install ever starts from nothing", "", () -> { var o = new Observed().candidate(B); o.installed = Optional.empty(); o.lastGood = Optional.empty(); return o; }, new StartRollout(B, Optional.empty()), "nothing installed"),
            row("new nightly: record the rollout first", "", () -> new Observed().candidate(B), new StartRollout(B, Optional.of(A)), B.toString()),
            row("back up every user before anything", "", () -> new Observed().candidate(B).rollout(B, A, Progress.STARTED),
                    preBump(B, new Backup("alice", A, true), new Backup("bob", A, true), new Backup("carol", A, true)), "pre-bump backups of alice, bob, carol before " + B),
            row("the batch stops before a user whose version cannot be told; that user holds once the rest are backed up", "",
                    () -> { var o = new Observed().candidate(B).rollout(B, A, Progress.STARTED).inactive("bob"); o.rollout = o.rollout.map(r -> new t3.reconciler.model.Rollout(r.id(), r.target(), Optional.empty(), r.startedAt(), r.backups(), r.healthy(), r.restarted(), r.verified(), r.restored(), r.failure())); return o; },
                    preBump(B, new Backup("alice", A, true)), "alice"),
            row("a user whose version cannot be told holds the bump", "",
                    () -> { var o = new Observed().candidate(B).rollout(B, A, Progress.STARTED).inactive("alice"); o.rollout = o.rollout.map(r -> new t3.reconciler.model.Rollout(r.id(), r.target(), Optional.empty(), r.startedAt(), r.backups(), r.healthy(), r.restarted(), r.verified(), r.restored(), r.failure())); return o; },
                    Hold.until(Gate.BACKUP), "cannot tell which version alice"),
            row("a user without a database has nothing to back up", "", () -> new Observed().candidate(B).noDatabase("alice").rollout(B, A, Progress.STARTED), preBump(B, new Backup("bob", A, true), new Backup("carol", A, true)), "bob"),
            // A pre-bump backup that failed (full disk, SQLite) recorded nothing: the next plan is that backup again,
            // never the install, however many other users are backed up and however fresh the user's daily backup is.
            row("a user whose pre-bump backup failed is backed up before anything is installed", "", () -> new Observed().candidate(B).rollout(B, A, Progress.BACKED_UP)
                    .rolloutChange(r -> { var b = new java.util.LinkedHashMap<>(r.backups()); b.remove("bob"); return new t3.reconciler.model.Rollout(r.id(), r.target(), r.from(), r.startedAt(), b, r.healthy(), r.restarted(), r.verified(), r.restored(), r.failure()); }),
                    preBump(B, new Backup("bob", A, true)), "pre-bump backups of bob"),
            row("install aside once everyone is backed up", "", () -> new Observed().candidate(B).rollout(B, A, Progress.BACKED_UP), new Install(B), "own prefix"),
            row("health check on the seed user's pre-bump backup", "", () -> new Observed().candidate(B).present(B).rollout(B, A, Progress.BACKED_UP), new CheckHealth(B, "alice", Optional.of(backupPath("alice", A))), "alice's pre-bump backup"),
            row("seed user without data falls back to the next user's backup", "healthCheck: {seedUser: alice}", () -> new Observed().candidate(B).present(B).noDatabase("alice").rollout(B, A, Progress.BACKED_UP), new CheckHealth(B, "bob", Optional.of(backupPath("bob", A))), "bob"),
            row("activate only after the health check", "", () -> new Observed().candidate(B).present(B).rollout(B, A, Progress.HEALTHY), new Activate(B), "passed its health check"),
            row("canary: the first idle user", "", () -> activated(), new Canary("alice", B), "restart idle alice"),
            row("verify a restarted user before the next restart", "", () -> activated().running("alice", B).restarted("alice"), new Verify("alice", B), "not verified"),
            row("next canary after a verified one", "", () -> activated().running("alice", B).restarted("alice").verified("alice"), new Canary("bob", B), "bob"),
            row("busy user is skipped, the next idle one goes", "", () -> activated().running("alice", B).verified("alice").busy("bob"), new Canary("carol", B), "carol"),
            row("only busy users left: deferred, rechecked later", "", () -> activated().running("alice", B).running("carol", B).verified("alice", "carol").busy("bob"), Hold.recheck(Gate.BUSY, Duration.ofMinutes(10)), "claude --resume"),
            row("inactive units do not block promotion", "", () -> activated().running("alice", B).running("bob", B).verified("alice", "bob").inactive("carol"), new Promote(B), "promoting"),
            row("everyone verified: promote", "", () -> activated().running("alice", B).running("bob", B).running("carol", B).verified("alice", "bob", "carol"), new Promote(B), "last-good"),
            row("target changed before activation: abandon", "", () -> new Observed().candidate(C).rollout(B, A, Progress.BACKED_UP), new AbandonRollout(B), "never reached a user"),
            row("channel moved on after activation: finish the started rollout", "", () -> activated().candidate(C), new Canary("alice", B), "onto " + B),

            // -- approval gate (canary.approval: manual, canary.pauseAfter: N)
            row("manual approval: a healthy build waits before the link moves", "canary: {approval: manual}", () -> new Observed().candidate(B).present(B).rollout(B, A, Progress.HEALTHY), Hold.until(Gate.AWAITING_APPROVAL), "waiting for 't3-reconciler promote'"),
            row("manual approval: promote of this version approves the stage", "canary: {approval: manual}", () -> new Observed().candidate(B).present(B).rollout(B, A, Progress.HEALTHY).asked(ApprovalRequest.Kind.PROMOTE, B), new Approve(B, ApprovalStage.HEALTH_CHECKED, "ops"), "ran 'promote " + B + "'"),
            row("manual approval: once approved the link moves", "canary: {approval: manual}", () -> new Observed().candidate(B).present(B).rollout(B, A, Progress.HEALTHY).approved(ApprovalStage.HEALTH_CHECKED), new Activate(B), "passed its health check"),
            row("manual approval: no pause before the health check", "canary: {approval: manual}", () -> new Observed().candidate(B).present(B).rollout(B, A, Progress.BACKED_UP), new CheckHealth(B, "alice", Optional.of(backupPath("alice", A))), "health-check"),
            row("promote of another version is dropped, never carried over", "canary: {approval: manual}", () -> new Observed().candidate(B).present(B).rollout(B, A, Progress.HEALTHY).asked(ApprovalRequest.Kind.PROMOTE, C), new DiscardApprovalRequest(ApprovalRequest.Kind.PROMOTE, C), "no rollout toward " + C),
            row("promote with no rollout open is dropped", "", () -> new Observed().asked(ApprovalRequest.Kind.PROMOTE, B), new DiscardApprovalRequest(ApprovalRequest.Kind.PROMOTE, B), "dropping"),
            row("abort of the paused rollout fails it", "canary: {approval: manual}", () -> new Observed().candidate(B).present(B).rollout(B, A, Progress.HEALTHY).asked(ApprovalRequest.Kind.ABORT, B), new AbortRollout(B, "aborted by ops: looks fine"), "rolled back like a failed canary"),
            row("abort overrides freeze", "freeze: true", () -> activated().running("alice", B).restarted("alice").verified("alice").asked(ApprovalRequest.Kind.ABORT, B), new AbortRollout(B, "aborted by ops: looks fine"), "ran 'abort"),
            row("pauseAfter: after N verified users the others wait", "canary: {pauseAfter: 1}", () -> activated().running("alice", B).restarted("alice").verified("alice"), Hold.until(Gate.AWAITING_APPROVAL), "1 user(s) verified"),
            row("pauseAfter: a restarted user is verified before the pause", "canary: {pauseAfter: 1}", () -> activated().running("alice", B).restarted("alice"), new Verify("alice", B), "not verified"),
            row("pauseAfter: approval of the health-checked stage does not pass it", "canary: {approval: manual, pauseAfter: 1}", () -> activated().running("alice", B).restarted("alice").verified("alice").approved(ApprovalStage.HEALTH_CHECKED), Hold.until(Gate.AWAITING_APPROVAL), "pauseAfter 1"),
            row("pauseAfter: promote lets the others go", "canary: {pauseAfter: 1}", () -> activated().running("alice", B).restarted("alice").verified("alice").approved(ApprovalStage.USERS_VERIFIED), new Canary("bob", B), "restart idle bob"),
            row("pauseAfter: no pause when nobody is left", "canary: {pauseAfter: 3}", () -> activated().running("alice", B).running("bob", B).running("carol", B).verified("alice", "bob", "carol"), new Promote(B), "last-good"),

            // -- failure: breaker, binary, every migrated user
            row("failed bump opens the breaker first", "", () -> activated().running("alice", B).restarted("alice").failed("canary alice: pairing 401"), new OpenBreaker(B, "canary alice: pairing 401"), "opening the breaker"),
            row("then the binary goes back", "", () -> failedOn(B), new RollbackBinary(A), "back at " + A),
            row("last-good prefix gone: reinstall it", "", () -> { var o = failedOn(B); o.present.remove(A); return o; }, new Install(A), "reinstalling"),
            row("then every user restarted onto it is restored", "", () -> failedOn(B).installedIs(A), new Restore("alice", backupPath("alice", A), A), "restarted onto " + B),
            row("restore continues with the next migrated user", "", () -> failedOn(B).installedIs(A).restored("alice"), new Restore("bob", backupPath("bob", A), A), "bob"),
            row("a user systemd restarted onto it is restored too", "", () -> failedOn(B).installedIs(A).restored("alice", "bob").running("carol", B), new Restore("carol", backupPath("carol", A), A), "carol"),
            // issue 15: a user the failed build left down is serving no one; restoring a live user first keeps them waiting.
            row("a touched user who is down is restored before the live ones", "", () -> failedOn(B).installedIs(A).inactive("bob"), new Restore("bob", backupPath("bob", A), A), "bob"),
            row("down users first, together, in the users' order", "", () -> failedOn(B).installedIs(A).restarted("carol").inactive("carol").inactive("bob"), downBatch(B, A, "bob", "carol"), "restoring bob, carol together"),
            // issue 15: two down + one live -> one batch of the two, then the live one alone.
            row("two down and one live: the two down ones in one batch", "", () -> failedOn(B).installedIs(A).inactive("alice").inactive("bob").running("carol", B), downBatch(B, A, "alice", "bob"), "nobody is served by them"),
            row("after the batch, the live user alone", "", () -> failedOn(B).installedIs(A).inactive("alice").inactive("bob").running("carol", B).restored("alice", "bob"), new Restore("carol", backupPath("carol", A), A), "carol"),
            row("one down user stays a single restore", "", () -> failedOn(B).installedIs(A).inactive("alice").restored("bob"), new Restore("alice", backupPath("alice", A), A), "users who are down come first"),
            row("a user down after systemd started it on the failed build is touched", "", () -> failedOn(B).installedIs(A).restored("alice", "bob").downAfterStartOn("carol", B), new Restore("carol", backupPath("carol", A), A), "carol"),
            row("a user down since before the bump is not touched", "", () -> failedOn(B).installedIs(A).restored("alice", "bob").downAfterStartOn("carol", A), new FinishRollback(B), "restored alice, bob"),
            row("down after their own start on the failed build, batched with the canary's", "", () -> failedOn(B).installedIs(A).inactive("bob").downAfterStartOn("carol", B).restored("alice"), downBatch(B, A, "bob", "carol"), "restoring bob, carol together"),
            row("a busy live user is deferred, the down ones are restored first", "", () -> failedOn(B).installedIs(A).busy("alice").inactive("bob").downAfterStartOn("carol", B), downBatch(B, A, "bob", "carol"), "bob, carol"),
            row("a quarantined down user is left out of the batch", "", () -> failedOn(B).installedIs(A).inactive("alice").inactive("bob").downAfterStartOn("carol", B).quarantined("alice", NOW), downBatch(B, A, "bob", "carol"), "bob, carol"),
            row("once the down users are restored, the live ones follow", "", () -> failedOn(B).installedIs(A).inactive("bob").restored("bob"), new Restore("alice", backupPath("alice", A), A), "alice"),
            row("untouched users are left alone: rollback done", "", () -> failedOn(B).installedIs(A).restored("alice", "bob"), new FinishRollback(B), "restored alice, bob"),
            row("a busy user's restore is deferred, never killed", "", () -> failedOn(B).installedIs(A).restored("alice").busy("bob"), Hold.recheck(Gate.BUSY, Duration.ofMinutes(10)), "bob"),
            row("health check failure: nobody restarted, binary never switched", "", () -> { var o = new Observed().candidate(B).present(B).rollout(B, A, Progress.BACKED_UP).failed("health: migration failed"); o.breakerOpen(B, 1, NOW); return o; }, new FinishRollback(B), "restored nobody"),

            // -- quarantine: a user whose files were refused is left alone; everyone else goes on
            row("rollback skips a quarantined user and restores the next", "", () -> failedOn(B).installedIs(A).quarantined("alice", NOW), new Restore("bob", backupPath("bob", A), A), "bob"),
            row("rollback finishes around a quarantined user and names them", "", () -> failedOn(B).installedIs(A).restored("bob").quarantined("alice", NOW), new FinishRollback(B), "quarantined, not restored: alice"),
            row("a bump backs up everyone but the quarantined", "", () -> new Observed().candidate(B).quarantined("alice", NOW).rollout(B, A, Progress.STARTED), preBump(B, new Backup("bob", A, true), new Backup("carol", A, true)), "pre-bump backups of bob, carol"),
            row("a bump never restarts a quarantined user", "", () -> activated().quarantined("alice", NOW), new Canary("bob", B), "restart idle bob"),
            row("a quarantined user does not hold promotion", "", () -> activated().running("bob", B).running("carol", B).verified("bob", "carol").quarantined("alice", NOW), new Promote(B), "promoting"),
            row("downgrade skips a quarantined user without a backup on the target", "pin: " + OLD, () -> withOldBackups().backups("alice").present(OLD).rollout(OLD, A, Progress.STARTED).installedIs(OLD).quarantined("alice", NOW), new Restore("bob", backupPath("bob", OLD), OLD), "bob"),
            row("a quarantined user's daily backup is retried once a day", "", () -> new Observed().backups("alice").quarantined("alice", NOW.minusSeconds(2 * 86400)), new Backup("alice", A, false), "daily backup of alice"),
            row("and not again the same day", "", () -> new Observed().backups("alice").quarantined("alice", NOW.minusSeconds(60)), new Converged(), "every user"),

            // -- breaker policies
            row("freeze policy: open breaker holds while the freeze file is there", "", () -> { var o = new Observed().candidate(C).breakerOpen(B, 1, NOW.minusSeconds(3600)); o.freezeFile = Optional.of("breaker"); return o; }, Hold.until(Gate.BREAKER), "unfreeze"),
            row("freeze policy: removing the freeze file resets the breaker", "", () -> new Observed().candidate(C).breakerOpen(B, 1, NOW.minusSeconds(3600)), new ResetBreaker(), "removed the freeze file"),
            row("backoff policy: waits its initial wait", "breaker: {policy: backoff, initialWait: 6h}", () -> new Observed().candidate(C).breakerOpen(B, 1, NOW.minusSeconds(3600)), Hold.recheck(Gate.BREAKER, Duration.ofHours(5)), "half-opens"),
            row("backoff policy: a second failure doubles the wait", "breaker: {policy: backoff, initialWait: 6h}", () -> new Observed().candidate(C).breakerOpen(B, 2, NOW.minusSeconds(7 * 3600)), Hold.recheck(Gate.BREAKER, Duration.ofHours(5)), "half-opens"),
            row("backoff policy: half-open lets a newer build through", "breaker: {policy: backoff, initialWait: 6h}", () -> new Observed().candidate(C).breakerOpen(B, 1, NOW.minusSeconds(7 * 3600)), new StartRollout(C, Optional.of(A)), C.toString()),
            row("backoff policy: half-open never lets the blocked build through", "breaker: {policy: backoff, initialWait: 6h}", () -> new Observed().candidate(B).breakerOpen(B, 1, NOW.minusSeconds(7 * 3600)), Hold.until(Gate.BLOCKED), "blocked"),
            // Only the half-open check decides these two: the failed build was unblocked by hand (or the tag moved back
            // below it), so the blocked-version check lets them through and the breaker alone holds.
            row("backoff policy: half-open never retries the failed build once unblocked", "breaker: {policy: backoff, initialWait: 6h}", () -> { var o = new Observed().candidate(C).breakerOpen(C, 1, NOW.minusSeconds(7 * 3600)); o.blocked.remove(C); return o; }, Hold.until(Gate.BREAKER), "not newer than the failed " + C),
            row("backoff policy: half-open lets no build older than the failed one through", "breaker: {policy: backoff, initialWait: 6h}", () -> new Observed().candidate(B).breakerOpen(C, 1, NOW.minusSeconds(7 * 3600)), Hold.until(Gate.BREAKER), "not newer than the failed " + C),
            row("rollback failed is the loud state", "", () -> { var o = new Observed().candidate(C); o.breaker = new BreakerState(BreakerState.Status.ROLLBACK_FAILED, Optional.of(B), Optional.of("x"), Optional.of(NOW), 1); o.freezeFile = Optional.of(""); return o; }, Hold.until(Gate.BREAKER), "could not be put back"),

            // -- deliberate downgrade by pin
            row("pin older without a backup on it is refused", "pin: " + OLD, Observed::new, Hold.until(Gate.DOWNGRADE), "no verified backup taken on " + OLD),
            row("pin older with backups: record a downgrade", "pin: " + OLD, () -> withOldBackups(), new StartRollout(OLD, Optional.of(A)), "deliberate downgrade"),
            row("downgrade reinstalls the old version aside", "pin: " + OLD, () -> withOldBackups().rollout(OLD, A, Progress.STARTED), new Install(OLD), "reinstalling"),
            row("downgrade switches the link", "pin: " + OLD, () -> withOldBackups().present(OLD).rollout(OLD, A, Progress.STARTED), new Activate(OLD), "link back"),
            row("downgrade restores each user from a backup on that version", "pin: " + OLD, () -> withOldBackups().present(OLD).rollout(OLD, A, Progress.STARTED).installedIs(OLD), new Restore("alice", backupPath("alice", OLD), OLD), "alice"),
            row("downgrade done: promote the pinned version", "pin: " + OLD, () -> withOldBackups().present(OLD).rollout(OLD, A, Progress.STARTED).installedIs(OLD).restored("alice", "bob", "carol"), new Promote(OLD), "back on " + OLD),
            row("failed downgrade needs an operator", "pin: " + OLD, () -> { var o = withOldBackups().present(OLD).rollout(OLD, A, Progress.STARTED).installedIs(OLD).failed("verify alice"); o.breakerOpen(OLD, 1, NOW); return o; }, Hold.until(Gate.BREAKER), "needs an operator"),

            // -- the operator's rollback request (CLI 'rollback'): overrides freeze, breaker and channel until done
            row("rollback request overrides the freeze file and starts a downgrade", "", () -> { var o = withOldBackups().rollbackTo(OLD, false); o.freezeFile = Optional.of("rollback to " + OLD); return o; }, new StartRollout(OLD, Optional.of(A)), "rollback to " + OLD + " requested by ops"),
            row("rollback request overrides an open breaker and a pin", "pin: " + A, () -> { var o = withOldBackups().rollbackTo(OLD, false); o.breakerOpen(B, 1, NOW); o.freezeFile = Optional.of("self-freeze"); return o; }, new StartRollout(OLD, Optional.of(A)), "deliberate downgrade"),
            row("rollback request without a backup on the target is refused", "", () -> new Observed().rollbackTo(OLD, false), Hold.until(Gate.DOWNGRADE), "no verified backup taken on " + OLD + " for alice, bob, carol"),
            row("rollback request abandons a bump toward another version", "", () -> withOldBackups().candidate(B).present(B).rollout(B, A, Progress.HEALTHY).installedIs(B).rollbackTo(OLD, false), new AbandonRollout(B), "replaces the rollout of " + B),
            row("rollback defers a busy user", "", () -> withOldBackups().present(OLD).rollout(OLD, A, Progress.STARTED).installedIs(OLD).busy("alice").rollbackTo(OLD, false), new Restore("bob", backupPath("bob", OLD), OLD), "bob"),
            row("rollback with only busy users left holds", "", () -> withOldBackups().present(OLD).rollout(OLD, A, Progress.STARTED).installedIs(OLD).restored("bob", "carol").busy("alice").rollbackTo(OLD, false), Hold.recheck(Gate.BUSY, Duration.ofMinutes(10)), "alice"),
            row("rollback --force restores a busy user", "", () -> withOldBackups().present(OLD).rollout(OLD, A, Progress.STARTED).installedIs(OLD).busy("alice").rollbackTo(OLD, true), new Restore("alice", backupPath("alice", OLD), OLD), "alice"),
            row("rollback done: promote the target", "", () -> withOldBackups().present(OLD).rollout(OLD, A, Progress.STARTED).installedIs(OLD).restored("alice", "bob", "carol").rollbackTo(OLD, false), new Promote(OLD), "back on " + OLD),
            row("rollback converged: clear the request", "", () -> { var o = withOldBackups().present(OLD).installedIs(OLD).running("alice", OLD).running("bob", OLD).running("carol", OLD).rollbackTo(OLD, false); o.lastGood = Optional.of(OLD); return o; }, new ClearRollbackRequest(OLD), "done"),

            // -- daily backups are not gated by freeze
            row("daily backup is due even while frozen", "freeze: true", () -> new Observed().backups("bob", backup("bob", A, Instant.parse("2026-06-07T02:00:00Z"))), new Backup("bob", A, false), "daily backup of bob")
        );
    }

    static Observed activated() {
        var o = new Observed().candidate(B).present(B).rollout(B, A, Progress.HEALTHY);
        o.installed = Optional.of(B);
        return o;
    }

    static Observed failedOn(Version v) {
        var o = activated().running("alice", v).running("bob", v).restarted("alice", "bob").verified("alice").failed("canary bob: no session cookie");
        o.breakerOpen(v, 1, NOW);
        o.freezeFile = Optional.of("breaker open");
        return o;
    }

    static Observed withOldBackups() {
        var o = new Observed();
        for (String u : new String[] {"alice", "bob", "carol"}) o.backups(u, backup(u, A, NOW.minusSeconds(60)), backup(u, OLD, NOW.minusSeconds(86400 * 3)));
        return o;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void plans(String name, String specExtra, Supplier<Observed> observed, Action expected, String reasonHas) {
        Decision d = Planner.next(spec(specExtra), observed.get().build());
        assertEquals(expected, d.action(), () -> "reason was: " + d.reason());
        assertTrue(d.reason().contains(reasonHas), () -> "reason '" + d.reason() + "' should mention '" + reasonHas + "'");
    }
}
