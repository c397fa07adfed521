package t3.reconciler.controller.loop;

/**
 * Test-only hook for the crash-point matrix: {@code T3R_CRASH_AT=<point>} makes the process die with SIGKILL's
 * effect (no shutdown hooks, no finally blocks) when it reaches that point, so a crash lands exactly there.
 */
public final class CrashPoints {
    private final String point;

    public CrashPoints(String point) { this.point = point; }

    public static CrashPoints fromEnvironment() { return new CrashPoints(System.getenv("T3R_CRASH_AT")); }

    public static CrashPoints none() { return new CrashPoints(null); }

    public void at(String here) {
        if (here.equals(point)) {
            System.err.println("{\"level\":\"error\",\"event\":\"crash-point\",\"point\":\"" + here + "\"}");
            System.err.flush();
            Runtime.getRuntime().halt(137);
        }
    }
}
