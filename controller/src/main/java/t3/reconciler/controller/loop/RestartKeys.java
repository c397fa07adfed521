package t3.reconciler.controller.loop;

import java.util.ArrayList;
import java.util.List;
import t3.reconciler.model.DesiredState;

/**
 * The keys a running controller cannot take from an edit: {@code controller.stateDb} (the open store and the instance
 * lock beside it: moving them live would let a second controller start on the old lock), {@code controller.pidFile}
 * ({@code reconcile} and systemd find the running daemon through it) and {@code controller.metrics} (the bound
 * listener; Prometheus scrapes the old address until told otherwise). Everything else is rebuilt at the next step
 * boundary. An edit of these keeps the started values in force, said as "restart needed", never "applied".
 */
public final class RestartKeys {
    private RestartKeys() {}

    /** The keys of {@code edited} that differ from what the controller started with. */
    public static List<String> changed(DesiredState started, DesiredState edited) {
        DesiredState.Controller a = started.controller(), b = edited.controller();
        List<String> out = new ArrayList<>();
        if (!a.stateDb().equals(b.stateDb())) out.add("controller.stateDb");
        if (!a.pidFile().equals(b.pidFile())) out.add("controller.pidFile");
        if (!a.metricsAddress().equals(b.metricsAddress())) out.add("controller.metrics");
        return out;
    }

    /** {@code edited}, with the keys only a restart applies left at their started values: what is really in force. */
    public static DesiredState inForce(DesiredState started, DesiredState edited) {
        DesiredState.Controller a = started.controller(), b = edited.controller();
        DesiredState.Controller c = new DesiredState.Controller(a.stateDb(), b.freezeFile(), a.pidFile(), a.metricsAddress(), b.bus());
        return new DesiredState(edited.source(), edited.packageName(), edited.track(), edited.trackExplicit(), edited.pin(), edited.freeze(),
                edited.users(), edited.usersFile(), edited.unitTemplate(), edited.databaseTemplate(), edited.install(), edited.backup(),
                edited.healthCheck(), edited.canary(), edited.schedule(), edited.breaker(), edited.alerts(), c, edited.fleet());
    }
}
