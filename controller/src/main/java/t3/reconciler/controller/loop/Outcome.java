package t3.reconciler.controller.loop;

/** How one executed step ended: {@code ok}, or {@code failed} with the verdict recorded (the planner reacts next pass). */
public record Outcome(boolean ok, String detail) {
    public static Outcome ok(String detail) { return new Outcome(true, detail); }

    public static Outcome failed(String detail) { return new Outcome(false, detail); }
}
