package t3.reconciler.controller.loop;

/**
 * How one executed step ended: {@code ok}, or {@code failed} with the verdict recorded (the planner reacts next pass).
 * {@code fault}: failed for a reason that is not a verdict on the build or the user (the backup disk is full, SQLite
 * failed). It is recorded like any failed step (event, {@code t3r_steps_total{outcome="failed"}}, so its alert can
 * fire), and then the pass ends as an error, retried with backoff: planning again at once would repeat it.
 */
public record Outcome(boolean ok, String detail, boolean fault) {
    public static Outcome ok(String detail) { return new Outcome(true, detail, false); }

    public static Outcome failed(String detail) { return new Outcome(false, detail, false); }

    public static Outcome fault(String detail) { return new Outcome(false, detail, true); }
}
