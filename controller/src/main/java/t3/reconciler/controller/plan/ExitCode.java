package t3.reconciler.controller.plan;

/**
 * The README's exit codes, and the one mapping from how a pass ended to a command's exit code: {@code run --once},
 * {@code reconcile --wait}, {@code rollback} and {@code plan} all go through here.
 */
public final class ExitCode {
    public static final int OK = 0, FAILED = 1, USAGE = 2, REFUSED = 3;

    private ExitCode() {}

    /** Converged is ok, held is refused by a gate, interrupted or error is a failure. */
    public static int of(PassOutcome o) {
        return switch (o) {
            case CONVERGED -> OK;
            case HELD -> REFUSED;
            case INTERRUPTED, ERROR -> FAILED;
        };
    }

    /**
     * {@code rollback} whose request is still pending after its last pass: held by a gate (busy users deferred, a
     * backup missing) is a refusal; held by the breaker means one of its own steps failed, as does an error.
     */
    public static int ofUnfinishedRollback(java.util.Optional<PassOutcome> o, java.util.Optional<Gate> gate) {
        if (gate.equals(java.util.Optional.of(Gate.BREAKER))) return FAILED;
        return o.filter(x -> x == PassOutcome.HELD).map(ExitCode::of).orElse(FAILED);
    }

    /**
     * A pass as {@code plan} shows it before it runs: a wait that lifts by itself (window, busy, an outage) is fine,
     * any other hold is a refusal.
     */
    public static int ofPlan(Decision d) {
        if (d.action() instanceof Action.Hold h) return h.transientFault() || h.gate().clearsByItself() ? OK : of(PassOutcome.HELD);
        return OK;
    }
}
