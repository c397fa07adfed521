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
                      since TEXT NOT NULL) STRICT""")),
            new Step(3, "typed columns for what the CLI and the daemon tell each other", List.of(
                    """
                    CREATE TABLE rollback_request (
                      id INTEGER PRIMARY KEY CHECK (id = 1),
                      target TEXT NOT NULL,
                      force INTEGER NOT NULL CHECK (force IN (0, 1)),
                      requested_by TEXT NOT NULL,
                      requested_at TEXT NOT NULL,
                      block_from TEXT) STRICT""",
                    // Schema 2 kept it as the fact '<version> <force|no-force> <at> <by>' (by may hold spaces).
                    """
                    INSERT INTO rollback_request (id, target, force, requested_by, requested_at)
                    WITH a AS (SELECT value AS v FROM fact WHERE key = 'rollback-request' AND instr(value, ' ') > 0),
                         b AS (SELECT substr(v, 1, instr(v, ' ') - 1) AS target, substr(v, instr(v, ' ') + 1) AS r1 FROM a),
                         c AS (SELECT target, substr(r1, 1, instr(r1, ' ') - 1) AS force, substr(r1, instr(r1, ' ') + 1) AS r2 FROM b)
                    SELECT 1, target, force = 'force',
                           CASE WHEN instr(r2, ' ') > 0 THEN substr(r2, instr(r2, ' ') + 1) ELSE '?' END,
                           CASE WHEN instr(r2, ' ') > 0 THEN substr(r2, 1, instr(r2, ' ') - 1) ELSE r2 END
                    FROM c""",
                    """
                    CREATE TABLE last_reconcile (
                      id INTEGER PRIMARY KEY CHECK (id = 1),
                      started_at TEXT,
                      ended_at TEXT,
                      outcome TEXT CHECK (outcome IN ('converged', 'held', 'interrupted', 'error')),
                      gate TEXT,
                      steps INTEGER,
                      summary TEXT) STRICT""",
                    // Schema 2: 'last-reconcile-start' = '<at>', 'last-reconcile' = '<end> <outcome> after n step(s)...'.
                    """
                    INSERT INTO last_reconcile (id, started_at, ended_at, outcome, summary)
                    SELECT 1, (SELECT value FROM fact WHERE key = 'last-reconcile-start'),
                           substr(l.value, 1, instr(l.value, ' ') - 1),
                           (SELECT o FROM (SELECT 'converged' AS o UNION ALL SELECT 'held' UNION ALL SELECT 'interrupted' UNION ALL SELECT 'error')
                             WHERE substr(l.value, instr(l.value, ' ') + 1, length(o) + 1) = o || ' '),
                           substr(l.value, instr(l.value, ' ') + 1)
                    FROM (SELECT (SELECT value FROM fact WHERE key = 'last-reconcile') AS value) AS l
                    WHERE l.value IS NOT NULL AND instr(l.value, ' ') > 0
                       OR (SELECT value FROM fact WHERE key = 'last-reconcile-start') IS NOT NULL""",
                    """
                    CREATE TABLE last_decision (
                      id INTEGER PRIMARY KEY CHECK (id = 1),
                      action TEXT NOT NULL,
                      gate TEXT,
                      reason TEXT NOT NULL) STRICT""",
                    """
                    CREATE TABLE step_in_flight (
                      id INTEGER PRIMARY KEY CHECK (id = 1),
                      action TEXT NOT NULL,
                      target TEXT NOT NULL) STRICT""",
                    // Schema 2: 'step-in-flight' = '<action> <target>', blank when none.
                    """
                    INSERT INTO step_in_flight (id, action, target)
                    SELECT 1, substr(value, 1, instr(value, ' ') - 1), substr(value, instr(value, ' ') + 1)
                    FROM fact WHERE key = 'step-in-flight' AND instr(value, ' ') > 1""",
                    // 'last-pass' only kept a hold from being recorded twice: at worst one repeated hold event after the upgrade.
                    "DELETE FROM fact WHERE key IN ('rollback-request', 'last-reconcile', 'last-reconcile-start', 'step-in-flight', 'last-pass')",
                    // What the CLI asks the planner to do (unfreeze, unblock) instead of writing the breaker or the blocked list itself.
                    """
                    CREATE TABLE unfreeze_request (
                      id INTEGER PRIMARY KEY CHECK (id = 1),
                      requested_by TEXT NOT NULL,
                      reason TEXT NOT NULL,
                      requested_at TEXT NOT NULL) STRICT""",
                    """
                    CREATE TABLE unblock_request (
                      version TEXT PRIMARY KEY,
                      requested_by TEXT NOT NULL,
                      reason TEXT NOT NULL,
                      requested_at TEXT NOT NULL) STRICT""",
                    // The step's own result beside the decision's reason, so no reader has to cut one out of the other.
                    "ALTER TABLE event ADD COLUMN detail TEXT")),
            new Step(4, "the approval gate: the operator's promote/abort, and approvals given per rollout", List.of(
                    // One pending promote and one abort at most: a newer one replaces the older.
                    """
                    CREATE TABLE approval_request (
                      kind TEXT PRIMARY KEY CHECK (kind IN ('promote', 'abort')),
                      version TEXT NOT NULL,
                      requested_by TEXT NOT NULL,
                      reason TEXT NOT NULL,
                      requested_at TEXT NOT NULL) STRICT""",
                    // Keyed by rollout: a later bump (even of the same version) starts with no approval.
                    """
                    CREATE TABLE rollout_approval (
                      rollout_id INTEGER NOT NULL,
                      stage TEXT NOT NULL,
                      approved_by TEXT NOT NULL,
                      approved_at TEXT NOT NULL,
                      PRIMARY KEY (rollout_id, stage)) STRICT""")),
            new Step(5, "fleet: which local verdicts were published to the group", List.of(
                    // Set once the verdict is in etcd: an operator's 'fleet unblock' is not undone by this host publishing it again.
                    "ALTER TABLE blocked ADD COLUMN fleet_published_at TEXT")));

    static int latest() { return STEPS.get(STEPS.size() - 1).version(); }

    static {
        for (int i = 0; i < STEPS.size(); i++) {
            if (STEPS.get(i).version() != i + 1) throw new AssertionError("migration steps must be numbered 1..n in order");
        }
    }

    private Migrations() {}
}
