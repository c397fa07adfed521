package t3.reconciler.controller.loop;

import java.util.List;
import t3.reconciler.controller.plan.Decision;

/**
 * How one executed step ended: {@code ok}, or {@code failed} with the verdict recorded (the planner reacts next pass).
 * {@code fault}: failed for a reason that is not a verdict on the build or the user (the backup disk is full, SQLite
 * failed). It is recorded like any failed step (event, {@code t3r_steps_total{outcome="failed"}}, so its alert can
 * fire), and then the pass ends as an error, retried with backoff: planning again at once would repeat it.
 */
public record Outcome(boolean ok, String detail, boolean fault, List<Part> parts, boolean changedNothing) {
    /** One user's share of a batched step, recorded as that user's own step (event, log line, metric). */
    public record Part(Decision step, Outcome outcome) {}

    public Outcome {
        parts = List.copyOf(parts);
        if (changedNothing && !ok) throw new IllegalArgumentException("a step that failed is 'failed', not 'unchanged'");
    }

    public Outcome(boolean ok, String detail, boolean fault) { this(ok, detail, fault, List.of(), false); }

    /**
     * The outcome as events, logs and {@code t3r_steps_total} name it: {@code ok}, {@code failed}, or {@code unchanged}
     * for a step that found the world already as it was meant to leave it, or could not change it without failing
     * (a slot taken by another host first, no slot to release): readers tell these apart by this label, not by the detail.
     */
    public String label() { return !ok ? "failed" : changedNothing ? "unchanged" : "ok"; }

    /** A batch: failed if any part failed, a fault (the pass ends as an error) if any part is one. */
    public static Outcome batch(List<Part> parts) {
        boolean ok = parts.stream().allMatch(p -> p.outcome().ok());
        boolean fault = parts.stream().anyMatch(p -> p.outcome().fault());
        String detail = String.join("; ", parts.stream().map(p -> p.step().action().eventTarget() + ": " + p.outcome().detail()).toList());
        return new Outcome(ok, detail, fault, parts, false);
    }

    public static Outcome ok(String detail) { return new Outcome(true, detail, false); }

    /** Not a failure, and nothing changed: see {@link #label()}. */
    public static Outcome unchanged(String detail) { return new Outcome(true, detail, false, List.of(), true); }

    public static Outcome failed(String detail) { return new Outcome(false, detail, false); }

    public static Outcome fault(String detail) { return new Outcome(false, detail, true); }
}
