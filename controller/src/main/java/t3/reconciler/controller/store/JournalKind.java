package t3.reconciler.controller.store;

/**
 * The destructive steps that are journaled, so {@code Recovery} can finish or undo one after a crash. Recovery switches
 * over these exhaustively: a new kind is a compile error there until it knows how to recover it. The {@link #label()}
 * is the journal row's {@code action} (the same words since schema 1, so a journal left by an older release reads).
 */
public enum JournalKind {
    INSTALL("install"),
    HEALTH_CHECK("health-check"),
    ACTIVATE("activate"),
    ROLLBACK_BINARY("rollback-binary"),
    CANARY("canary"),
    RESTORE("restore"),
    /** Several users' restores at once (users who were down); the detail lists each user with unit, backup and start. */
    RESTORE_DOWN("restore-down");

    private final String label;

    JournalKind(String label) { this.label = label; }

    public String label() { return label; }

    static JournalKind ofLabel(String label) {
        for (JournalKind k : values()) if (k.label.equals(label)) return k;
        throw new StateStoreException("the journal names a step '" + label + "' this release does not know; it was written by a newer t3-reconciler", null);
    }
}
