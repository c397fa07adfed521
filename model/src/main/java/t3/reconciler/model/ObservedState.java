package t3.reconciler.model;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import t3.reconciler.model.fleet.FleetFacts;

/**
 * Everything the planner may look at, gathered fresh before each step. The planner never does I/O:
 * if a fact is not in here, it does not exist for a decision.
 *
 * @param installed   the version the global link points at (what a restarted unit would run)
 * @param present     versions installed in their own prefix under the versions directory
 * @param candidate   what the tracked channel resolves to now, or why it could not be resolved
 * @param freezeFile  the operator freeze file's content if it exists (empty string when empty)
 * @param rollout     the bump in progress, as recorded in the state store
 * @param windowOverride the operator asked for a bump now, outside the maintenance window (SIGHUP/CLI with a flag)
 * @param rollbackRequest the operator's {@code rollback} not yet done, as recorded in the state store
 * @param quarantined users whose files were refused, by name: the planner leaves them alone
 * @param unfreezeRequest the operator's {@code unfreeze} not yet carried out
 * @param unblockRequests the operator's {@code unblock}s not yet carried out
 * @param approvalRequests the operator's {@code promote}/{@code abort} not yet acted on
 * @param approved    the stages at which the operator approved the rollout in flight (empty without one)
 * @param fleet       the fleet as one etcd read saw it; empty without {@code fleet:} (docs/fleet.md)
 * @param fleetUnpublished locally blocked versions (with the local reason) whose verdict this host has not yet
 *                    published to the fleet; empty without {@code fleet:}
 */
public record ObservedState(
        Instant now,
        Optional<Version> installed,
        Set<Version> present,
        Optional<Version> lastGood,
        Candidate candidate,
        List<UserState> users,
        Optional<String> freezeFile,
        BreakerState breaker,
        Set<Version> blocked,
        Optional<Rollout> rollout,
        boolean windowOverride,
        Optional<RollbackRequest> rollbackRequest,
        Map<String, Quarantine> quarantined,
        Optional<UnfreezeRequest> unfreezeRequest,
        List<UnblockRequest> unblockRequests,
        List<ApprovalRequest> approvalRequests,
        Set<ApprovalStage> approved,
        Optional<FleetFacts> fleet,
        Map<Version, String> fleetUnpublished) {

    /** Without the fleet: what a host acting alone observes. */
    public ObservedState(Instant now, Optional<Version> installed, Set<Version> present, Optional<Version> lastGood, Candidate candidate,
                         List<UserState> users, Optional<String> freezeFile, BreakerState breaker, Set<Version> blocked,
                         Optional<Rollout> rollout, boolean windowOverride, Optional<RollbackRequest> rollbackRequest, Map<String, Quarantine> quarantined,
                         Optional<UnfreezeRequest> unfreezeRequest, List<UnblockRequest> unblockRequests, List<ApprovalRequest> approvalRequests,
                         Set<ApprovalStage> approved) {
        this(now, installed, present, lastGood, candidate, users, freezeFile, breaker, blocked, rollout, windowOverride, rollbackRequest, quarantined,
                unfreezeRequest, unblockRequests, approvalRequests, approved, Optional.empty(), Map.of());
    }

    /** Without approvals. */
    public ObservedState(Instant now, Optional<Version> installed, Set<Version> present, Optional<Version> lastGood, Candidate candidate,
                         List<UserState> users, Optional<String> freezeFile, BreakerState breaker, Set<Version> blocked,
                         Optional<Rollout> rollout, boolean windowOverride, Optional<RollbackRequest> rollbackRequest, Map<String, Quarantine> quarantined,
                         Optional<UnfreezeRequest> unfreezeRequest, List<UnblockRequest> unblockRequests) {
        this(now, installed, present, lastGood, candidate, users, freezeFile, breaker, blocked, rollout, windowOverride, rollbackRequest, quarantined,
                unfreezeRequest, unblockRequests, List.of(), Set.of());
    }

    /** Without the operator's requests and quarantine: what most callers (and table tests) observe. */
    public ObservedState(Instant now, Optional<Version> installed, Set<Version> present, Optional<Version> lastGood, Candidate candidate,
                         List<UserState> users, Optional<String> freezeFile, BreakerState breaker, Set<Version> blocked,
                         Optional<Rollout> rollout, boolean windowOverride, Optional<RollbackRequest> rollbackRequest, Map<String, Quarantine> quarantined) {
        this(now, installed, present, lastGood, candidate, users, freezeFile, breaker, blocked, rollout, windowOverride, rollbackRequest, quarantined, Optional.empty(), List.of(), List.of(), Set.of());
    }

    /** Without a rollback request: what most callers (and table tests) observe. */
    public ObservedState(Instant now, Optional<Version> installed, Set<Version> present, Optional<Version> lastGood, Candidate candidate,
                         List<UserState> users, Optional<String> freezeFile, BreakerState breaker, Set<Version> blocked,
                         Optional<Rollout> rollout, boolean windowOverride) {
        this(now, installed, present, lastGood, candidate, users, freezeFile, breaker, blocked, rollout, windowOverride, Optional.empty(), Map.of());
    }

    public ObservedState withRollbackRequest(Optional<RollbackRequest> r) {
        return new ObservedState(now, installed, present, lastGood, candidate, users, freezeFile, breaker, blocked, rollout, windowOverride, r, quarantined, unfreezeRequest, unblockRequests, approvalRequests, approved, fleet, fleetUnpublished);
    }

    public ObservedState withQuarantined(Map<String, Quarantine> q) {
        return new ObservedState(now, installed, present, lastGood, candidate, users, freezeFile, breaker, blocked, rollout, windowOverride, rollbackRequest, q, unfreezeRequest, unblockRequests, approvalRequests, approved, fleet, fleetUnpublished);
    }

    public ObservedState withApprovals(List<ApprovalRequest> requests, Set<ApprovalStage> stages) {
        return new ObservedState(now, installed, present, lastGood, candidate, users, freezeFile, breaker, blocked, rollout, windowOverride, rollbackRequest, quarantined, unfreezeRequest, unblockRequests, requests, stages, fleet, fleetUnpublished);
    }

    public ObservedState withFleet(Optional<FleetFacts> f, Map<Version, String> unpublished) {
        return new ObservedState(now, installed, present, lastGood, candidate, users, freezeFile, breaker, blocked, rollout, windowOverride, rollbackRequest, quarantined, unfreezeRequest, unblockRequests, approvalRequests, approved, f, unpublished);
    }

    public Optional<Quarantine> quarantine(String user) { return Optional.ofNullable(quarantined.get(user)); }

    public boolean isQuarantined(String user) { return quarantined.containsKey(user); }

    public ObservedState {
        present = Set.copyOf(present);
        users = List.copyOf(users);
        blocked = Set.copyOf(blocked);
        quarantined = Map.copyOf(quarantined);
        unblockRequests = List.copyOf(unblockRequests);
        approvalRequests = List.copyOf(approvalRequests);
        approved = Set.copyOf(approved);
        fleetUnpublished = Map.copyOf(fleetUnpublished);
    }

    /** The operator's pending request of this kind for {@code version}, if any. */
    public Optional<ApprovalRequest> approvalRequest(ApprovalRequest.Kind kind, Version version) {
        return approvalRequests.stream().filter(r -> r.kind() == kind && r.version().equals(version)).findFirst();
    }

    public Optional<UserState> user(String name) {
        return users.stream().filter(u -> u.name().equals(name)).findFirst();
    }

    /** The channel's current version, or the reason it is unknown. */
    public record Candidate(Optional<Version> version, Optional<String> error) {
        public static Candidate of(Version v) { return new Candidate(Optional.of(v), Optional.empty()); }
        public static Candidate failed(String why) { return new Candidate(Optional.empty(), Optional.of(why)); }
        public static Candidate notAsked() { return new Candidate(Optional.empty(), Optional.empty()); }
    }
}
