package t3.reconciler.controller.plan;

import java.util.List;
import java.util.Optional;
import t3.reconciler.model.ObservedState;
import t3.reconciler.model.Version;

/** Which version the operator's {@code rollback} without {@code --to} goes back to: a decision, so it is made here. */
public final class RollbackTarget {
    private RollbackTarget() {}

    /**
     * A pending request's target; else last-good if older than what is installed; else (right after a good bump,
     * last-good is what runs) the version the link pointed at before it, the newest older activation: "undo the last
     * bump". Empty: there is no earlier version, the operator must name one.
     *
     * @param activations the versions the link pointed at, oldest first
     */
    public static Optional<Version> of(ObservedState obs, List<Version> activations) {
        // Rerun (e.g. with --force) while one is pending: the same target, not last-good, which moves only at its end.
        if (obs.rollbackRequest().isPresent()) return Optional.of(obs.rollbackRequest().get().target());
        Optional<Version> installed = obs.installed();
        if (obs.lastGood().isPresent() && (installed.isEmpty() || obs.lastGood().get().isOlderThan(installed.get()))) return obs.lastGood();
        for (int i = activations.size() - 1; i >= 0; i--) {
            Version v = activations.get(i);
            if (installed.isEmpty() || v.isOlderThan(installed.get())) return Optional.of(v);
        }
        return Optional.empty();
    }
}
