package t3.reconciler.controller.plan;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import t3.reconciler.model.ApprovalRequest;
import t3.reconciler.model.ApprovalStage;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.BreakerState;
import t3.reconciler.model.ObservedState;
import t3.reconciler.model.Quarantine;
import t3.reconciler.model.RollbackRequest;
import t3.reconciler.model.Rollout;
import t3.reconciler.model.UserState;
import t3.reconciler.model.Version;
import t3.reconciler.model.fleet.EtcdHealth;
import t3.reconciler.model.fleet.FleetFacts;
import t3.reconciler.model.fleet.FleetFreeze;
import t3.reconciler.model.fleet.SlotHolder;
import t3.reconciler.model.fleet.Verdict;

/** A readable way to write an observed state in a table test: a converged machine, then the differences. */
final class Observed {
    static final Version OLD = Version.parse("0.0.24-nightly.20260520.1");
    static final Version A = Version.parse("0.0.25-nightly.20260601.1");
    static final Version B = Version.parse("0.0.25-nightly.20260608.2");
    static final Version C = Version.parse("0.0.26-nightly.20260615.3");
    static final Version RELEASE = Version.parse("0.0.25");
    /** Inside the default window 03:00-06:00 UTC, after the daily backup time 02:30. */
    static final Instant NOW = Instant.parse("2026-06-08T04:00:00Z");

    Instant now = NOW;
    Optional<Version> installed = Optional.of(A);
    Set<Version> present = new HashSet<>(Set.of(A));
    Optional<Version> lastGood = Optional.of(A);
    ObservedState.Candidate candidate = ObservedState.Candidate.of(A);
    Map<String, UserState> users = new LinkedHashMap<>();
    Optional<String> freezeFile = Optional.empty();
    BreakerState breaker = BreakerState.closed();
    Set<Version> blocked = new HashSet<>();
    Optional<Rollout> rollout = Optional.empty();
    boolean windowOverride;
    Optional<RollbackRequest> rollbackRequest = Optional.empty();
    Map<String, Quarantine> quarantined = new LinkedHashMap<>();
    List<ApprovalRequest> approvalRequests = new ArrayList<>();
    Set<ApprovalStage> approved = new HashSet<>();
    /** What one etcd read saw; null: not observed (a host without {@code fleet:}). */
    Fleet fleet;
    Map<Version, String> unpublished = new LinkedHashMap<>();

    /** The fleet as this host ({@code h1}) reads it: a quorum, nothing held, nothing blocked, no freeze, its promotion of A known. */
    static final class Fleet {
        Fleet() {
            promoted(A, "h1", NOW.minusSeconds(86400));
        }

        EtcdHealth etcd = EtcdHealth.QUORUM;
        String self = "h1";
        int max = 1;
        List<SlotHolder> holders = new ArrayList<>();
        boolean leaseLost;
        /** Whether a slot key of this host is under this controller's live lease (false: an earlier controller's). */
        boolean liveLease = true;
        Map<String, Verdict> verdicts = new LinkedHashMap<>();
        Optional<FleetFreeze> freeze = Optional.empty();
        Map<String, Map<String, Instant>> promotions = new LinkedHashMap<>();

        Fleet holding(String... hosts) {
            for (String h : hosts) holders.add(new SlotHolder(h, NOW.minusSeconds(30), 1));
            return this;
        }

        Fleet promoted(Version v, String host, Instant at) {
            promotions.computeIfAbsent(v.toString(), k -> new LinkedHashMap<>()).put(host, at);
            return this;
        }

        Fleet verdict(Version v, String host, String reason) {
            verdicts.put(v.toString(), new Verdict(v.toString(), host, reason, NOW.minusSeconds(120)));
            return this;
        }

        FleetFacts facts() {
            if (etcd != EtcdHealth.QUORUM) return FleetFacts.unknown(etcd, "http://127.0.0.1:2379: connection refused", self, max, leaseLost);
            return new FleetFacts(etcd, "", 42, self, max, holders, liveLease && holders.stream().anyMatch(h -> h.host().equals(self)), leaseLost, verdicts, freeze, promotions, Map.of());
        }
    }

    Observed fleet(UnaryOperator<Fleet> change) {
        fleet = change.apply(fleet == null ? new Fleet() : fleet);
        return this;
    }

    Observed unpublished(Version v, String reason) {
        unpublished.put(v, reason);
        return this;
    }

    Observed() {
        for (String u : List.of("alice", "bob", "carol")) users.put(u, user(u, A));
    }

    static UserState user(String name, Version running) {
        Path db = Path.of("/home", name, ".t3/userdata/state.sqlite");
        return new UserState(name, "t3-serve@" + name + ".service", "active", 100, Optional.of(running), List.of(), db, true,
                List.of(backup(name, running, NOW.minusSeconds(600))));
    }

    static BackupInfo backup(String user, Version v, Instant at) {
        return new BackupInfo(user, backupPath(user, v), v, at, 4096, true);
    }

    static Path backupPath(String user, Version v) { return Path.of("/var/backups/t3-state", user, "20260608T035000000Z_" + v + ".sqlite"); }

    Observed candidate(Version v) { candidate = ObservedState.Candidate.of(v); return this; }

    Observed present(Version... vs) { present.addAll(List.of(vs)); return this; }

    Observed user(String name, UnaryOperator<UserState> change) { users.put(name, change.apply(users.get(name))); return this; }

    Observed running(String name, Version v) {
        return user(name, u -> new UserState(u.name(), u.unit(), u.activeState(), u.mainPid() + 1, Optional.of(v), u.busyProcesses(), u.database(), u.databaseExists(), u.backups()));
    }

    Observed busy(String name) {
        return user(name, u -> new UserState(u.name(), u.unit(), u.activeState(), u.mainPid(), u.runningVersion(), List.of("claude --resume"), u.database(), u.databaseExists(), u.backups()));
    }

    Observed inactive(String name) {
        return user(name, u -> new UserState(u.name(), u.unit(), "inactive", 0, Optional.empty(), List.of(), u.database(), u.databaseExists(), u.backups()));
    }

    /** Down after a start on {@code v} (systemd's Restart=, an operator, a reboot): the process exited, its start is known. */
    Observed downAfterStartOn(String name, Version v) {
        return user(name, u -> new UserState(u.name(), u.unit(), "failed", 0, Optional.empty(), List.of(), u.database(), u.databaseExists(), u.backups(), Optional.of(v)));
    }

    Observed noDatabase(String name) {
        return user(name, u -> new UserState(u.name(), u.unit(), u.activeState(), u.mainPid(), u.runningVersion(), u.busyProcesses(), u.database(), false, List.of()));
    }

    Observed backups(String name, BackupInfo... b) {
        return user(name, u -> new UserState(u.name(), u.unit(), u.activeState(), u.mainPid(), u.runningVersion(), u.busyProcesses(), u.database(), u.databaseExists(), List.of(b)));
    }

    /** A rollout of {@code target} from {@code from}, with every user with a database backed up, in the given progress. */
    Observed rollout(Version target, Version from, Progress progress) {
        Map<String, Path> backups = new LinkedHashMap<>();
        if (progress.ordinal() >= Progress.BACKED_UP.ordinal()) {
            for (UserState u : users.values()) if (u.databaseExists()) backups.put(u.name(), backupPath(u.name(), from));
        }
        rollout = Optional.of(new Rollout(7, target, Optional.of(from), NOW.minusSeconds(60), backups,
                progress.ordinal() >= Progress.HEALTHY.ordinal(), Set.of(), Set.of(), Set.of(), Optional.empty()));
        return this;
    }

    Observed rollbackTo(Version v, boolean force) {
        rollbackRequest = Optional.of(new RollbackRequest(v, force, "ops", NOW.minusSeconds(30)));
        return this;
    }

    /** {@code user}'s files were refused at {@code since}. */
    Observed quarantined(String user, Instant since) {
        quarantined.put(user, new Quarantine(user, "database is a symbolic link", since));
        return this;
    }

    Observed installedIs(Version v) { installed = Optional.of(v); return this; }

    Observed rolloutChange(UnaryOperator<Rollout> change) { rollout = rollout.map(change); return this; }

    Observed restarted(String... names) {
        return rolloutChange(r -> new Rollout(r.id(), r.target(), r.from(), r.startedAt(), r.backups(), r.healthy(), union(r.restarted(), names), r.verified(), r.restored(), r.failure()));
    }

    Observed verified(String... names) {
        return rolloutChange(r -> new Rollout(r.id(), r.target(), r.from(), r.startedAt(), r.backups(), r.healthy(), r.restarted(), union(r.verified(), names), r.restored(), r.failure()));
    }

    Observed restored(String... names) {
        return rolloutChange(r -> new Rollout(r.id(), r.target(), r.from(), r.startedAt(), r.backups(), r.healthy(), r.restarted(), r.verified(), union(r.restored(), names), r.failure()));
    }

    Observed failed(String why) {
        return rolloutChange(r -> new Rollout(r.id(), r.target(), r.from(), r.startedAt(), r.backups(), r.healthy(), r.restarted(), r.verified(), r.restored(), Optional.of(why)));
    }

    Observed breakerOpen(Version v, int failures, Instant at) {
        breaker = new BreakerState(BreakerState.Status.OPEN, Optional.of(v), Optional.of("canary failed"), Optional.of(at), failures);
        blocked.add(v);
        return this;
    }

    Observed asked(ApprovalRequest.Kind kind, Version v) {
        approvalRequests.add(new ApprovalRequest(kind, v, "ops", "looks fine", NOW.minusSeconds(10)));
        return this;
    }

    Observed approved(ApprovalStage... stages) {
        approved.addAll(List.of(stages));
        return this;
    }

    enum Progress { STARTED, BACKED_UP, HEALTHY }

    private static Set<String> union(Set<String> a, String... b) {
        Set<String> s = new HashSet<>(a);
        s.addAll(List.of(b));
        return s;
    }

    ObservedState build() {
        return new ObservedState(now, installed, present, lastGood, candidate, new ArrayList<>(users.values()), freezeFile, breaker, blocked, rollout, windowOverride, rollbackRequest, quarantined)
                .withApprovals(approvalRequests, approved)
                .withFleet(Optional.ofNullable(fleet).map(Fleet::facts), unpublished);
    }
}
