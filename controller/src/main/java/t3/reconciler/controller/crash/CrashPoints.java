package t3.reconciler.controller.crash;

import java.util.function.Consumer;

/**
 * Test-only hook for the crash-point matrix: {@code T3R_CRASH_AT=<point>} makes the process die with SIGKILL's
 * effect (no shutdown hooks, no finally blocks) when it reaches that point, so a crash lands exactly there.
 * In-process fault tests use {@link #hook} instead: a fault injected exactly at a point, and the pass goes on.
 */
public final class CrashPoints {
    private final String point;
    private final Consumer<String> hook;

    public CrashPoints(String point) { this(point, null); }

    private CrashPoints(String point, Consumer<String> hook) {
        this.point = point;
        this.hook = hook;
    }

    public static CrashPoints fromEnvironment() { return new CrashPoints(System.getenv("T3R_CRASH_AT")); }

    public static CrashPoints none() { return new CrashPoints(null); }

    /** Test-only: {@code hook} is called with the name of every point reached, and nothing dies. */
    public static CrashPoints hook(Consumer<String> hook) { return new CrashPoints(null, hook); }

    public void at(String here) {
        if (hook != null) hook.accept(here);
        if (here.equals(point)) {
            System.err.println("{\"level\":\"error\",\"event\":\"crash-point\",\"point\":\"" + here + "\"}");
            System.err.flush();
            Runtime.getRuntime().halt(137);
        }
    }
}
