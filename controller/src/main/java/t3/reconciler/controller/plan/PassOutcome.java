package t3.reconciler.controller.plan;

import java.util.Optional;

/**
 * How one reconcile pass ended, as controller-runtime's {@code Result} tells its caller: the CLI's exit code
 * ({@link ExitCode#of}), the {@code outcome} label of {@code t3r_reconcile_duration}, the state store's record of the
 * last pass, and the daemon's backoff all read this, never the sentence that explains it.
 */
public enum PassOutcome {
    /** Observed equals desired. */
    CONVERGED("converged"),
    /** A gate said not now (see the pass's {@link Gate}). */
    HELD("held"),
    /** Stopped at a step boundary (SIGTERM). */
    INTERRUPTED("interrupted"),
    /** A fault (an outage, a failing disk, a plan that does not converge): retried with backoff. */
    ERROR("error");

    private final String label;

    PassOutcome(String label) { this.label = label; }

    public String label() { return label; }

    /** Unknown labels (a row written by a newer release) are empty. */
    public static Optional<PassOutcome> ofLabel(String label) {
        for (PassOutcome o : values()) if (o.label.equals(label)) return Optional.of(o);
        return Optional.empty();
    }
}
