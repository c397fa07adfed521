package t3.reconciler.controller.store;

import java.time.Instant;
import java.util.Optional;
import t3.reconciler.controller.plan.Gate;
import t3.reconciler.controller.plan.PassOutcome;

/**
 * The daemon's last reconcile pass as {@code reconcile --wait}, {@code rollback --wait} and {@code status} read it:
 * when the latest pass started, when the latest finished pass ended and how ({@code outcome}, the {@code gate} of a
 * hold), and {@code summary}, the sentence for people. Empty fields: not recorded yet (or by schema 2, which kept
 * only the sentence).
 */
public record LastReconcile(Optional<Instant> startedAt, Optional<Instant> endedAt, Optional<PassOutcome> outcome, Optional<Gate> gate,
                            int steps, String summary) {
    /** {@code <end> <summary>}, as {@code status} has always shown it. */
    public String text() { return endedAt.map(Instant::toString).orElse("?") + " " + summary; }

    /** The pass that started at or after {@code since} has ended. */
    public boolean endedPassStartedAtOrAfter(Instant since) {
        return startedAt.isPresent() && !startedAt.get().isBefore(since) && endedAt.isPresent() && !endedAt.get().isBefore(startedAt.get());
    }
}
