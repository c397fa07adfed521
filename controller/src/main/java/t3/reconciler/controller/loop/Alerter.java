package t3.reconciler.controller.loop;

import java.util.Map;

/**
 * Raises an alert the moment the controller knows (metrics carry the same facts for Prometheus rules). Implementations:
 * the log only, or an Alertmanager / webhook POST.
 */
public interface Alerter {
    /** @param name e.g. {@code T3RolledBack}; {@code labels} add version, user, reason */
    void fire(String name, String severity, String summary, Map<String, String> labels);

    /**
     * The condition behind an alert fired with these name, severity and labels is over. Only a destination that keeps
     * alerts open (Alertmanager) needs it; the log and the generic webhook have nothing to take back.
     */
    default void resolve(String name, String severity, Map<String, String> labels) {}
}
