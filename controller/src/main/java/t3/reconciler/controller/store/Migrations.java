package t3.reconciler.controller.store;

import java.util.List;

/**
 * The schema, as an ordered list of forward steps. Step {@code n} takes a database at {@code user_version n-1}
 * to {@code n}. Never edit a released step: databases in the field already ran it; append a new one.
 */
final class Migrations {
    /** 't3rc': marks the file as ours, so a mistyped path (a user's chat database) is refused, not migrated. */
    static final int APPLICATION_ID = 0x74337263;

    record Step(int version, String description, List<String> statements) {}

    static final List<Step> STEPS = List.of(
            new Step(1, "initial schema", List.of(
                    "PRAGMA application_id = " + APPLICATION_ID,
                    "CREATE TABLE fact (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT",
                    """
                    CREATE TABLE last_good (
                      id INTEGER PRIMARY KEY CHECK (id = 1),
                      version TEXT NOT NULL,
                      at TEXT NOT NULL) STRICT""",
                    """
                    CREATE TABLE activation (
                      id INTEGER PRIMARY KEY AUTOINCREMENT,
                      version TEXT NOT NULL,
                      at TEXT NOT NULL) STRICT""",
                    """
                    CREATE TABLE rollout (
                      id INTEGER PRIMARY KEY AUTOINCREMENT,
                      target TEXT NOT NULL,
                      from_version TEXT,
                      started_at TEXT NOT NULL,
                      healthy INTEGER NOT NULL DEFAULT 0,
                      failure TEXT,
                      outcome TEXT CHECK (outcome IN ('succeeded', 'rolled-back', 'abandoned')),
                      finished_at TEXT,
                      CHECK ((outcome IS NULL) = (finished_at IS NULL))) STRICT""",
                    // At most one unfinished rollout: every open row indexes the same key, 1.
                    "CREATE UNIQUE INDEX rollout_one_open ON rollout ((finished_at IS NULL)) WHERE finished_at IS NULL",
                    """
                    CREATE TABLE rollout_user (
                      rollout_id INTEGER NOT NULL REFERENCES rollout (id),
                      user TEXT NOT NULL,
                      backup TEXT,
                      restarted INTEGER NOT NULL DEFAULT 0,
                      verified INTEGER NOT NULL DEFAULT 0,
                      restored INTEGER NOT NULL DEFAULT 0,
                      PRIMARY KEY (rollout_id, user)) STRICT""",
                    """
                    CREATE TABLE blocked (
                      version TEXT PRIMARY KEY,
                      reason TEXT NOT NULL,
                      at TEXT NOT NULL) STRICT""",
                    """
                    CREATE TABLE breaker (
                      id INTEGER PRIMARY KEY CHECK (id = 1),
                      status TEXT NOT NULL CHECK (status IN ('CLOSED', 'OPEN', 'ROLLBACK_FAILED')),
                      version TEXT,
                      reason TEXT,
                      opened_at TEXT,
                      failures INTEGER NOT NULL) STRICT""",
                    """
                    CREATE TABLE event (
                      id INTEGER PRIMARY KEY AUTOINCREMENT,
                      at TEXT NOT NULL,
                      action TEXT NOT NULL,
                      target TEXT,
                      outcome TEXT,
                      reason TEXT) STRICT""",
                    "CREATE INDEX event_at ON event (at)",
                    // Append-only is a property of the table, not a promise of the code.
                    "CREATE TRIGGER event_no_update BEFORE UPDATE ON event BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END",
                    "CREATE TRIGGER event_no_delete BEFORE DELETE ON event BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END",
                    """
                    CREATE TABLE journal (
                      id INTEGER PRIMARY KEY CHECK (id = 1),
                      action TEXT NOT NULL,
                      target TEXT NOT NULL,
                      detail TEXT NOT NULL,
                      started_at TEXT NOT NULL) STRICT""")),
            new Step(2, "users whose files were refused", List.of("""
                    CREATE TABLE quarantine (
                      user TEXT PRIMARY KEY,
                      reason TEXT NOT NULL,
                      since TEXT NOT NULL) STRICT""")));

    static int latest() { return STEPS.get(STEPS.size() - 1).version(); }

    static {
        for (int i = 0; i < STEPS.size(); i++) {
            if (STEPS.get(i).version() != i + 1) throw new AssertionError("migration steps must be numbered 1..n in order");
        }
    }

    private Migrations() {}
}
