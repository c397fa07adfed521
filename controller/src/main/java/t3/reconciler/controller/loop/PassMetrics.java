package t3.reconciler.controller.loop;

import java.time.Duration;
import java.time.Instant;
import t3.reconciler.controller.plan.Action;
import t3.reconciler.model.ObservedState;

/**
 * Where a pass's facts go. The daemon, which serves them, records into {@link Metrics}; a single pass
 * ({@code run --once}) serves none, so it records into {@link #NONE} and never loads micrometer and Prometheus
 * (~180 classes, docs/performance.md "Issue 15, round 4").
 */
interface PassMetrics {
    void observed(ObservedState o, boolean specValid);

    void reconciled(Reconciler.Result r, Duration took, Instant at);

    /** @param outcome {@link Outcome#label()} */
    void step(Action a, String outcome);

    PassMetrics NONE = new PassMetrics() {
        @Override public void observed(ObservedState o, boolean specValid) {}
        @Override public void reconciled(Reconciler.Result r, Duration took, Instant at) {}
        @Override public void step(Action a, String outcome) {}
    };
}
