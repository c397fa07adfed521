package t3.reconciler.controller.cli;

import java.io.IOException;
import java.time.Instant;
import java.util.Optional;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.ApprovalRequest;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.Rollout;
import t3.reconciler.model.Version;

/**
 * {@code promote} and {@code abort} record the operator's word for the rollout in flight; the planner acts on it (the
 * rollout is the controller's). The request names the version, so it can never let a later bump through.
 */
final class ApprovalRequests {
    private ApprovalRequests() {}

    /** @return what to tell the operator */
    static String record(DesiredState s, ApprovalRequest.Kind kind, Optional<String> version, String reason) throws IOException {
        Version v;
        try (StateStore store = StateStore.open(s.controller().stateDb())) {
            Optional<Rollout> open = store.rollout().filter(r -> !r.failed());
            if (open.isEmpty()) throw new CliException(Main.USAGE, "no rollout is in flight (nothing to " + kind.label() + ")");
            v = version.map(Args::version).orElse(open.get().target());
            if (!v.equals(open.get().target())) {
                throw new CliException(Main.USAGE, "the rollout in flight targets " + open.get().target() + ", not " + v);
            }
            Instant now = Instant.now();
            store.requestApproval(new ApprovalRequest(kind, v, Args.who(), reason, now));
            store.event(now, kind.label(), v.toString(), "ok", Args.who() + ": " + reason);
        }
        // Unlike unfreeze, an approval is not carried out without a daemon: it lets a rollout go on, which takes a pass.
        return kind.label() + " " + v + ": " + OperatorRequests.signalDaemon(s)
                .orElse("recorded; the next pass ('t3-reconciler reconcile' or the daemon) carries it out");
    }
}
