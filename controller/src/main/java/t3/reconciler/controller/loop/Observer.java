package t3.reconciler.controller.loop;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.FleetPort;
import t3.reconciler.controller.actuator.UnitStatus;
import t3.reconciler.controller.store.Activation;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.ObservedState;
import t3.reconciler.model.Rollout;
import t3.reconciler.model.User;
import t3.reconciler.model.UserState;
import t3.reconciler.model.Version;

/** Gathers a fresh {@link ObservedState}: the only place facts enter a decision. Changes nothing, except the baseline below. */
public final class Observer {
    private final Actuators io;
    private final StateStore store;
    private final Clock clock;

    public Observer(Actuators io, StateStore store, Clock clock) {
        this.io = io;
        this.store = store;
        this.clock = clock;
    }

    /**
     * @param resolve ask the registry for the channel's version (the CLI's {@code status} may skip it)
     * @throws ActuatorException only for faults that make the picture unusable (bus down); a registry
     *                           fault is part of the picture ({@link ObservedState.Candidate#failed})
     */
    public ObservedState observe(DesiredState spec, boolean resolve, boolean windowOverride) throws ActuatorException {
        return observe(spec, resolve ? resolve(spec) : ObservedState.Candidate.notAsked(), windowOverride);
    }

    /** The channel's version as the registry gives it now (not asked under a pin); a registry fault is an answer too. */
    public ObservedState.Candidate resolve(DesiredState spec) {
        if (spec.pin().isPresent()) return ObservedState.Candidate.notAsked();
        try {
            return ObservedState.Candidate.of(io.packages().resolve(spec.packageName(), spec.track()));
        } catch (ActuatorException e) {
            return ObservedState.Candidate.failed(e.getMessage());
        }
    }

    /** Everything else fresh, with the channel's answer {@code candidate} as it was asked earlier ({@link #resolve}). */
    public ObservedState observe(DesiredState spec, ObservedState.Candidate candidate, boolean windowOverride) throws ActuatorException {
        return observe(spec, () -> candidate, windowOverride);
    }

    /** The same, with the channel's answer taken last: {@code candidate} may still be on its way (asked on another thread). */
    public ObservedState observe(DesiredState spec, Supplier<ObservedState.Candidate> candidate, boolean windowOverride) throws ActuatorException {
        Instant now = clock.instant();
        Optional<Version> installed = io.releases().active();
        List<Activation> activations = baseline(installed);

        Map<String, UnitStatus> units = new HashMap<>();
        for (UnitStatus s : io.units().list(spec.unitPattern())) units.put(s.name(), s);
        List<UserState> users = new ArrayList<>();
        for (User user : spec.users()) {
            String unit = spec.unitOf(user.name());
            UnitStatus s = units.containsKey(unit) ? units.get(unit) : io.units().status(unit);
            Optional<Version> lastStart = s.execMainStart().flatMap(t -> versionAt(activations, t));
            Optional<Version> running = s.active() ? lastStart : Optional.empty();
            List<String> busy = s.active() ? io.busy().busyProcesses(s, spec.canary().busyPattern()) : List.of();
            Path db = spec.databaseOf(user.name());
            // lstat, existence only: a link the user planted is not followed by root here; the backup refuses it.
            users.add(new UserState(user.name(), unit, s.activeState(), s.mainPid(), running, busy, db, Files.exists(db, java.nio.file.LinkOption.NOFOLLOW_LINKS), io.backups().list(user.name()), lastStart));
        }

        Optional<Rollout> rollout = store.rollout();
        return new ObservedState(now, installed, io.releases().present(), store.lastGood(), candidate.get(), users,
                readFreezeFile(spec.controller().freezeFile()), store.breaker(), store.blocked(), rollout, windowOverride,
                store.rollbackRequest(), store.quarantined(), store.unfreezeRequest(), store.unblockRequests(),
                store.approvalRequests(), rollout.map(r -> store.approvals(r.id())).orElse(Set.of()),
                // One etcd read per observation, never throwing: what it could not read it reports as such.
                spec.fleet().isPresent() ? io.fleet().map(FleetPort::facts) : Optional.empty(),
                spec.fleet().isPresent() ? store.unpublishedBlocks() : Map.of());
    }

    /**
     * Which version a process started at {@code start} runs: the last activation at or before it. Node resolves the
     * link when the process starts, so the link's history is the truth; the process itself cannot be asked.
     */
    static Optional<Version> versionAt(List<Activation> activations, Instant start) {
        Optional<Version> v = Optional.empty();
        for (Activation a : activations) if (!a.at().isAfter(start)) v = Optional.of(a.version());
        return v;
    }

    /** The first time the controller sees a machine, whatever the link points at is what every running unit started on. */
    private List<Activation> baseline(Optional<Version> installed) {
        List<Activation> activations = store.activations();
        if (activations.isEmpty() && installed.isPresent()) {
            store.recordActivation(installed.get(), Instant.EPOCH);
            activations = store.activations();
        }
        return activations;
    }

    static Optional<String> readFreezeFile(Path file) { return FreezeFile.readWithLegacy(file, FreezeFile.LEGACY); }
}
