package t3.reconciler.model;

import java.time.Instant;
import java.util.Objects;

/**
 * The operator's {@code promote} or {@code abort} of the bump toward {@code version}, recorded by the CLI until the
 * planner acts on it. It names the version so that an approval given while one bump waited never lets another through.
 */
public record ApprovalRequest(Kind kind, Version version, String by, String reason, Instant at) {
    public enum Kind {
        PROMOTE("promote"), ABORT("abort");

        private final String label;

        Kind(String label) { this.label = label; }

        /** As the store and the CLI name it; never changes. */
        public String label() { return label; }

        public static Kind ofLabel(String s) {
            for (Kind k : values()) if (k.label.equals(s)) return k;
            throw new IllegalArgumentException("unknown approval request kind " + s);
        }
    }

    public ApprovalRequest {
        Objects.requireNonNull(kind);
        Objects.requireNonNull(version);
        Objects.requireNonNull(by);
        Objects.requireNonNull(reason);
        Objects.requireNonNull(at);
    }
}
