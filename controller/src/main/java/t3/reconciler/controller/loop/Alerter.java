package t3.reconciler.controller.loop;

import java.util.Map;

/**
 * Raises an alert the moment the controller knows (metrics carry the same facts for Prometheus rules). Implementations:
 * the log only, or an Alertmanager / webhook POST.
 */
public interface Alerter {
    /** @param name e.g. {@code T3RolledBack}; {@code labels} add version, user, reason */
    void fire(String name, String severity, String summary, Map<String, String> labels);
}
