package t3.reconciler.controller.store;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;
import t3.reconciler.controller.plan.Gate;
import t3.reconciler.controller.plan.PassOutcome;
import t3.reconciler.model.BreakerState;
import t3.reconciler.model.Quarantine;
import t3.reconciler.model.RollbackRequest;
import t3.reconciler.model.UnblockRequest;
import t3.reconciler.model.UnfreezeRequest;
import t3.reconciler.model.ApprovalRequest;
import t3.reconciler.model.ApprovalStage;
import t3.reconciler.model.Rollout;
import t3.reconciler.model.User;
import t3.reconciler.model.Version;

/**
 * The controller's own SQLite database (sqlite-jdbc): last-good, activations, the rollout in progress, blocked
 * versions, the breaker, the event log and the journal of the step in flight. The schema is versioned
 * ({@code PRAGMA user_version}) and migrated forward on open.
 *
 * <p>WAL with {@code synchronous=FULL}: every write is committed and fsynced before its method returns, so a
 * SIGKILL (or power cut) right after loses nothing the caller was told is done, and the CLI can read while the
 * daemon writes. One connection, all methods synchronized. Errors are {@link StateStoreException}; misuse (a
 * second journal entry, touching a finished rollout) is {@link IllegalStateException}.
 */
public final class StateStore implements AutoCloseable {
    public static final Path DEFAULT_PATH = Path.of("/var/lib/t3-reconciler/state.db");
    private static final int BUSY_TIMEOUT_MS = 10_000;
    private static final Set<String> OUTCOMES = Set.of("succeeded", "rolled-back", "abandoned");

    private final Path file;
    private Db db; // null once closed

    private StateStore(Path file, Db db) {
        this.file = file;
        this.db = db;
    }

    public static StateStore open(Path file) {
        Path path = file.toAbsolutePath().normalize();
        try {
            createPrivateDirs(path.getParent());
            createPrivateFile(path);
        } catch (IOException e) {
            throw new StateStoreException("cannot create the state database " + path + ": " + e, e);
        }
        Connection conn;
        try {
            conn = DriverManager.getConnection("jdbc:sqlite:" + path);
        } catch (SQLException e) {
            throw new StateStoreException("cannot open the state database " + path + ": " + e.getMessage(), e);
        }
        Db db = new Db(conn);
        try {
            db.exec("PRAGMA busy_timeout = " + BUSY_TIMEOUT_MS); // first, so the pragmas below wait out the CLI
            String mode = db.one("PRAGMA journal_mode = WAL", rs -> rs.getString(1)).orElse("");
            if (!mode.equalsIgnoreCase("wal")) throw new SQLException("journal_mode is " + mode + ", not wal");
            db.exec("PRAGMA synchronous = FULL"); // WAL + NORMAL may lose the last commits on power loss
            db.exec("PRAGMA foreign_keys = ON");
            migrate(db, path);
            return new StateStore(path, db);
        } catch (SQLException | RuntimeException e) {
            try {
                db.close();
            } catch (SQLException c) {
                e.addSuppressed(c);
            }
            if (e instanceof StateStoreException s) throw s;
            if (e instanceof SQLiteException s && s.getResultCode() == SQLiteErrorCode.SQLITE_NOTADB) {
                throw new StateStoreException(path + " is not a SQLite database", e);
            }
            throw new StateStoreException("cannot open the state database " + path + ": " + e.getMessage(), e);
        }
    }

    private static void migrate(Db db, Path path) throws SQLException {
        int appId = db.pragmaInt("application_id");
        int found = db.pragmaInt("user_version");
        if (appId != Migrations.APPLICATION_ID && (appId != 0 || found != 0 || hasTables(db))) {
            throw new StateStoreException(path + " is not a t3-reconciler state database (application_id " + appId
                    + "); refusing to touch it");
        }
        if (found > Migrations.latest()) throw newer(path, found);
        for (Migrations.Step step : Migrations.STEPS) {
            if (step.version() <= found) continue;
            db.tx(() -> {
                // Re-read under the write lock: another process (the CLI) may have migrated meanwhile.
                int now = db.pragmaInt("user_version");
                if (now > Migrations.latest()) throw newer(path, now);
                if (now >= step.version()) return null;
                for (String sql : step.statements()) db.exec(sql);
                db.exec("PRAGMA user_version = " + step.version());
                return null;
            });
        }
    }

    private static boolean hasTables(Db db) throws SQLException {
        return db.one("SELECT count(*) FROM sqlite_schema", rs -> rs.getInt(1)).orElse(0) > 0;
    }

    private static StateStoreException newer(Path path, int found) {
        return new StateStoreException(path + " has schema version " + found + " but this t3-reconciler knows only up to "
                + Migrations.latest() + ": it was written by a newer release; upgrade t3-reconciler (never downgrade it over its state)");
    }

    public synchronized int schemaVersion() {
        return call("read the schema version", () -> db().pragmaInt("user_version"));
    }

    public synchronized Optional<Version> lastGood() {
        return call("read last-good", () -> db().one("SELECT version FROM last_good", rs -> Version.parse(rs.getString(1))));
    }

    public synchronized void setLastGood(Version v, Instant at) {
        write("set last-good", () -> db().update(
                "INSERT INTO last_good (id, version, at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version, at = excluded.at",
                v.toString(), Db.text(at)));
    }

    public synchronized void recordActivation(Version v, Instant at) {
        write("record an activation", () -> db().update("INSERT INTO activation (version, at) VALUES (?, ?)", v.toString(), Db.text(at)));
    }

    /** Oldest first. */
    public synchronized List<Activation> activations() {
        return call("read activations", () -> db().query("SELECT version, at FROM activation ORDER BY id",
                rs -> new Activation(Version.parse(rs.getString(1)), Db.instant(rs.getString(2)))));
    }

    /** The unfinished rollout, if any; finished ones stay in the table with their outcome. */
    public synchronized Optional<Rollout> rollout() {
        return call("read the rollout", () -> {
            Optional<Rollout> head = db().one(
                    "SELECT id, target, from_version, started_at, healthy, failure FROM rollout WHERE finished_at IS NULL",
                    rs -> new Rollout(rs.getLong(1), Version.parse(rs.getString(2)), Optional.ofNullable(rs.getString(3)).map(Version::parse),
                            Db.instant(rs.getString(4)), Map.of(), rs.getInt(5) != 0, Set.of(), Set.of(), Set.of(), Optional.ofNullable(rs.getString(6))));
            if (head.isEmpty()) return head;
            Rollout r = head.get();
            Map<String, Path> backups = new HashMap<>();
            Set<String> restarted = new HashSet<>(), verified = new HashSet<>(), restored = new HashSet<>();
            db().query("SELECT user, backup, restarted, verified, restored FROM rollout_user WHERE rollout_id = ?", rs -> {
                String user = rs.getString(1);
                if (rs.getString(2) != null) backups.put(user, Path.of(rs.getString(2)));
                if (rs.getInt(3) != 0) restarted.add(user);
                if (rs.getInt(4) != 0) verified.add(user);
                if (rs.getInt(5) != 0) restored.add(user);
                return null;
            }, r.id());
            return Optional.of(new Rollout(r.id(), r.target(), r.from(), r.startedAt(), backups, r.healthy(), restarted, verified, restored, r.failure()));
        });
    }

    /** Fails with {@link IllegalStateException} while another rollout is unfinished. */
    public synchronized Rollout startRollout(Version target, Optional<Version> from, Instant at) {
        long id = write("start a rollout", () -> {
            Optional<Long> open = db().one("SELECT id FROM rollout WHERE finished_at IS NULL", rs -> rs.getLong(1));
            if (open.isPresent()) throw new IllegalStateException("rollout " + open.get() + " is still in progress; finish it first");
            return db().one("INSERT INTO rollout (target, from_version, started_at) VALUES (?, ?, ?) RETURNING id",
                    rs -> rs.getLong(1), target.toString(), from.map(Version::toString).orElse(null), Db.text(at)).orElseThrow();
        });
        return new Rollout(id, target, from, at, Map.of(), false, Set.of(), Set.of(), Set.of(), Optional.empty());
    }

    public synchronized void rolloutBackup(long id, String user, Path backup) {
        rolloutUser(id, user, "backup", backup.toString());
    }

    public synchronized void rolloutHealthy(long id) {
        write("mark rollout " + id + " healthy", () -> {
            requireOpen(id);
            return db().update("UPDATE rollout SET healthy = 1 WHERE id = ?", id);
        });
    }

    public synchronized void rolloutRestarted(long id, String user) { rolloutUser(id, user, "restarted", 1); }

    public synchronized void rolloutVerified(long id, String user) { rolloutUser(id, user, "verified", 1); }

    public synchronized void rolloutRestored(long id, String user) { rolloutUser(id, user, "restored", 1); }

    /** Keeps the first failure: it is the cause; what went wrong while reacting to it belongs in the event log. */
    public synchronized void rolloutFailed(long id, String why) {
        write("mark rollout " + id + " failed", () -> {
            requireOpen(id);
            return db().update("UPDATE rollout SET failure = coalesce(failure, ?) WHERE id = ?", why, id);
        });
    }

    /** The operator's {@code abort}: the rollout fails (the planner then rolls it back) and the request is consumed, in one transaction. */
    public synchronized void abortRollout(long id, String why) {
        write("abort rollout " + id, () -> {
            requireOpen(id);
            db().update("UPDATE rollout SET failure = coalesce(failure, ?) WHERE id = ?", why, id);
            return db().update("DELETE FROM approval_request WHERE kind = 'abort'");
        });
    }

    /** Ends the rollout (outcome {@code succeeded}, {@code rolled-back}, {@code abandoned}); {@link #rollout()} is then empty. */
    public synchronized void finishRollout(long id, String outcome, Instant at) {
        if (!OUTCOMES.contains(outcome)) throw new IllegalArgumentException("rollout outcome '" + outcome + "' is not one of " + OUTCOMES);
        write("finish rollout " + id, () -> {
            requireOpen(id);
            return db().update("UPDATE rollout SET outcome = ?, finished_at = ? WHERE id = ?", outcome, Db.text(at), id);
        });
    }

    private void rolloutUser(long id, String user, String column, Object value) {
        User.requireValidName(user);
        // column is one of our own literals, never input.
        write("record " + column + " of " + user + " in rollout " + id, () -> {
            requireOpen(id);
            return db().update("INSERT INTO rollout_user (rollout_id, user, " + column + ") VALUES (?, ?, ?) "
                    + "ON CONFLICT (rollout_id, user) DO UPDATE SET " + column + " = excluded." + column, id, user, value);
        });
    }

    private void requireOpen(long id) throws SQLException {
        Optional<Boolean> finished = db().one("SELECT finished_at IS NOT NULL FROM rollout WHERE id = ?", rs -> rs.getInt(1) != 0, id);
        if (finished.isEmpty()) throw new IllegalStateException("no rollout " + id);
        if (finished.get()) throw new IllegalStateException("rollout " + id + " is finished");
    }

    public synchronized Set<Version> blocked() {
        return call("read blocked versions", () -> new LinkedHashSet<>(db().query("SELECT version FROM blocked ORDER BY at, version",
                rs -> Version.parse(rs.getString(1)))));
    }

    /** Blocking again replaces the reason and time: the latest verdict is the one worth showing. */
    public synchronized void block(Version v, String reason, Instant at) {
        write("block " + v, () -> db().update(
                "INSERT INTO blocked (version, reason, at) VALUES (?, ?, ?) ON CONFLICT (version) DO UPDATE SET reason = excluded.reason, at = excluded.at",
                v.toString(), reason, Db.text(at)));
    }

    /** Blocked versions whose verdict this host has not published to the fleet yet, with the local reason, oldest first. */
    public synchronized Map<Version, String> unpublishedBlocks() {
        return call("read unpublished verdicts", () -> {
            Map<Version, String> out = new LinkedHashMap<>();
            db().query("SELECT version, reason FROM blocked WHERE fleet_published_at IS NULL ORDER BY at, version",
                    rs -> out.put(Version.parse(rs.getString(1)), rs.getString(2)));
            return out;
        });
    }

    /** The verdict on {@code v} is in the fleet (first, or another host's was there already): never published again. */
    public synchronized void markPublished(Version v, Instant at) {
        write("mark the verdict on " + v + " published", () -> db().update("UPDATE blocked SET fleet_published_at = ? WHERE version = ?", Db.text(at), v.toString()));
    }

    /** The operator's {@code unblock}: the version may be tried again. */
    public synchronized void unblock(Version v) {
        write("unblock " + v, () -> db().update("DELETE FROM blocked WHERE version = ?", v.toString()));
    }

    /** Quarantining again keeps the user quarantined and moves {@code since}: the daily retry counts from the last refusal. */
    public synchronized void quarantine(String user, String reason, Instant at) {
        User.requireValidName(user);
        write("quarantine " + user, () -> db().update(
                "INSERT INTO quarantine (user, reason, since) VALUES (?, ?, ?) ON CONFLICT (user) DO UPDATE SET reason = excluded.reason, since = excluded.since",
                user, reason, Db.text(at)));
    }

    /** @return whether {@code user} was quarantined */
    public synchronized boolean liftQuarantine(String user) {
        return call("lift the quarantine of " + user, () -> db().update("DELETE FROM quarantine WHERE user = ?", user)) > 0;
    }

    public synchronized Map<String, Quarantine> quarantined() {
        Map<String, Quarantine> out = new java.util.TreeMap<>();
        call("read quarantined users", () -> db().query("SELECT user, reason, since FROM quarantine ORDER BY user",
                rs -> new Quarantine(rs.getString(1), rs.getString(2), Db.instant(rs.getString(3))))).forEach(q -> out.put(q.user(), q));
        return out;
    }

    /** {@link BreakerState#closed()} until something was saved. */
    public synchronized BreakerState breaker() {
        return call("read the breaker", () -> db().one("SELECT status, version, reason, opened_at, failures FROM breaker",
                rs -> new BreakerState(BreakerState.Status.valueOf(rs.getString(1)),
                        Optional.ofNullable(rs.getString(2)).map(Version::parse),
                        Optional.ofNullable(rs.getString(3)),
                        Optional.ofNullable(Db.instant(rs.getString(4))),
                        rs.getInt(5))).orElse(BreakerState.closed()));
    }

    public synchronized void saveBreaker(BreakerState b) {
        write("save the breaker", () -> db().update("""
                INSERT INTO breaker (id, status, version, reason, opened_at, failures) VALUES (1, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET status = excluded.status, version = excluded.version, reason = excluded.reason,
                  opened_at = excluded.opened_at, failures = excluded.failures""",
                b.status().name(), b.version().map(Version::toString).orElse(null), b.reason().orElse(null),
                b.openedAt().map(Db::text).orElse(null), b.failures()));
    }

    /** Appends to the event log; {@code target}, {@code outcome} and {@code reason} may be null. */
    public synchronized Event event(Instant at, String action, String target, String outcome, String reason) {
        return event(at, action, target, outcome, reason, null);
    }

    /** A step's event: {@code detail} is the step's own result, also kept apart so no reader cuts it out of {@code reason}. */
    public synchronized Event event(Instant at, String action, String target, String outcome, String reason, String detail) {
        long id = write("log an event", () -> db().one(
                "INSERT INTO event (at, action, target, outcome, reason, detail) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                rs -> rs.getLong(1), Db.text(at), action, target, outcome, reason, detail).orElseThrow());
        return new Event(id, at, action, target, outcome, reason, detail);
    }

    /**
     * The newest {@code limit} events at or after {@code since} (all times when empty), in log order: newest
     * last, like {@code journalctl --since -n}. Log order is append order, whatever {@code at} the caller gave.
     */
    public synchronized List<Event> events(Optional<Instant> since, int limit) {
        if (limit < 0) throw new IllegalArgumentException("limit must not be negative: " + limit);
        return call("read events", () -> db().query("""
                SELECT id, at, action, target, outcome, reason, detail FROM (
                  SELECT * FROM event WHERE at >= ? ORDER BY id DESC LIMIT ?
                ) ORDER BY id""",
                rs -> new Event(rs.getLong(1), Db.instant(rs.getString(2)), rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6), rs.getString(7)),
                since.map(Db::text).orElse(""), limit));
    }

    /** Fails with {@link IllegalStateException} if a step is already in flight: finish or undo it first. */
    public synchronized void journalBegin(JournalEntry e) {
        write("begin journal entry " + e.kind().label(), () -> {
            Optional<String> open = db().one("SELECT action || ' ' || target FROM journal", rs -> rs.getString(1));
            if (open.isPresent()) throw new IllegalStateException("a step is already in flight (" + open.get() + "); cannot begin " + e.kind().label() + " " + e.target());
            return db().update("INSERT INTO journal (id, action, target, detail, started_at) VALUES (1, ?, ?, ?, ?)",
                    e.kind().label(), e.target(), e.detail(), Db.text(e.startedAt()));
        });
    }

    public synchronized Optional<JournalEntry> journal() {
        return call("read the journal", () -> db().one("SELECT action, target, detail, started_at FROM journal",
                rs -> new JournalEntry(JournalKind.ofLabel(rs.getString(1)), rs.getString(2), rs.getString(3), Db.instant(rs.getString(4)))));
    }

    /** What the step in flight has learned since it began (a directory it made, a process it started): replaces its detail. */
    public synchronized void journalDetail(String detail) {
        write("update the journal", () -> db().update("UPDATE journal SET detail = ?", detail));
    }

    /** Idempotent: recovery may clear an entry whose step had already cleared it before a crash. */
    public synchronized void journalClear() {
        write("clear the journal", () -> db().update("DELETE FROM journal"));
    }

    /** Small key/value facts with no meaning the controller reads back beyond the value itself (held-back since, restart-needed). */
    public synchronized Optional<String> get(String key) {
        return call("read fact " + key, () -> db().one("SELECT value FROM fact WHERE key = ?", rs -> rs.getString(1), key));
    }

    public synchronized void put(String key, String value) {
        write("write fact " + key, () -> db().update(
                "INSERT INTO fact (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value));
    }

    /** The operator's pending {@code rollback}, if any. */
    public synchronized Optional<RollbackRequest> rollbackRequest() {
        return call("read the rollback request", () -> db().one("SELECT target, force, requested_by, requested_at, block_from FROM rollback_request",
                rs -> new RollbackRequest(Version.parse(rs.getString(1)), rs.getInt(2) != 0, rs.getString(3), Db.instant(rs.getString(4)),
                        Optional.ofNullable(rs.getString(5)).map(Version::parse))));
    }

    /** Replaces a pending request: a rerun (say with --force) is the operator's latest word. */
    public synchronized void requestRollback(RollbackRequest r) {
        write("record the rollback request", () -> db().update("""
                INSERT INTO rollback_request (id, target, force, requested_by, requested_at, block_from) VALUES (1, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET target = excluded.target, force = excluded.force,
                  requested_by = excluded.requested_by, requested_at = excluded.requested_at, block_from = excluded.block_from""",
                r.target().toString(), r.force() ? 1 : 0, r.by(), Db.text(r.at()), r.blockFrom().map(Version::toString).orElse(null)));
    }

    public synchronized void clearRollbackRequest() {
        write("clear the rollback request", () -> db().update("DELETE FROM rollback_request"));
    }

    /** Pending {@code promote}/{@code abort}, oldest first. */
    public synchronized List<ApprovalRequest> approvalRequests() {
        return call("read approval requests", () -> db().query("SELECT kind, version, requested_by, reason, requested_at FROM approval_request ORDER BY requested_at, kind",
                rs -> new ApprovalRequest(ApprovalRequest.Kind.ofLabel(rs.getString(1)), Version.parse(rs.getString(2)), rs.getString(3), rs.getString(4), Db.instant(rs.getString(5)))));
    }

    public synchronized void requestApproval(ApprovalRequest r) {
        write("record the " + r.kind().label() + " request of " + r.version(), () -> db().update("""
                INSERT INTO approval_request (kind, version, requested_by, reason, requested_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (kind) DO UPDATE SET version = excluded.version, requested_by = excluded.requested_by,
                  reason = excluded.reason, requested_at = excluded.requested_at""",
                r.kind().label(), r.version().toString(), r.by(), r.reason(), Db.text(r.at())));
    }

    public synchronized void clearApprovalRequest(ApprovalRequest.Kind kind) {
        write("clear the " + kind.label() + " request", () -> db().update("DELETE FROM approval_request WHERE kind = ?", kind.label()));
    }

    /** The stages the operator approved for rollout {@code id}. */
    public synchronized Set<ApprovalStage> approvals(long rolloutId) {
        return call("read approvals", () -> Set.copyOf(db().query("SELECT stage FROM rollout_approval WHERE rollout_id = ?",
                rs -> ApprovalStage.ofLabel(rs.getString(1)), rolloutId)));
    }

    /** Records the approval and consumes the promote request in one transaction: a crash leaves both or neither. */
    public synchronized void approve(long rolloutId, ApprovalStage stage, String by, Instant at) {
        write("record the approval of rollout " + rolloutId + " at " + stage.label(), () -> {
            db().update("INSERT OR IGNORE INTO rollout_approval (rollout_id, stage, approved_by, approved_at) VALUES (?, ?, ?, ?)",
                    rolloutId, stage.label(), by, Db.text(at));
            return db().update("DELETE FROM approval_request WHERE kind = 'promote'");
        });
    }

    public synchronized Optional<UnfreezeRequest> unfreezeRequest() {
        return call("read the unfreeze request", () -> db().one("SELECT requested_by, reason, requested_at FROM unfreeze_request",
                rs -> new UnfreezeRequest(rs.getString(1), rs.getString(2), Db.instant(rs.getString(3)))));
    }

    public synchronized void requestUnfreeze(UnfreezeRequest r) {
        write("record the unfreeze request", () -> db().update("""
                INSERT INTO unfreeze_request (id, requested_by, reason, requested_at) VALUES (1, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET requested_by = excluded.requested_by, reason = excluded.reason, requested_at = excluded.requested_at""",
                r.by(), r.reason(), Db.text(r.at())));
    }

    public synchronized void clearUnfreezeRequest() {
        write("clear the unfreeze request", () -> db().update("DELETE FROM unfreeze_request"));
    }

    /** Oldest first. */
    public synchronized List<UnblockRequest> unblockRequests() {
        return call("read unblock requests", () -> db().query("SELECT version, requested_by, reason, requested_at FROM unblock_request ORDER BY requested_at, version",
                rs -> new UnblockRequest(Version.parse(rs.getString(1)), rs.getString(2), rs.getString(3), Db.instant(rs.getString(4)))));
    }

    public synchronized void requestUnblock(UnblockRequest r) {
        write("record the unblock request of " + r.version(), () -> db().update("""
                INSERT INTO unblock_request (version, requested_by, reason, requested_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (version) DO UPDATE SET requested_by = excluded.requested_by, reason = excluded.reason, requested_at = excluded.requested_at""",
                r.version().toString(), r.by(), r.reason(), Db.text(r.at())));
    }

    public synchronized void clearUnblockRequest(Version v) {
        write("clear the unblock request of " + v, () -> db().update("DELETE FROM unblock_request WHERE version = ?", v.toString()));
    }

    /** A pass begins: with {@link #reconcileEnded}, lets 'reconcile --wait' tell a pass that started after its SIGHUP from one already running. */
    public synchronized void reconcileStarted(Instant at) {
        write("record a reconcile start", () -> db().update(
                "INSERT INTO last_reconcile (id, started_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at", Db.text(at)));
    }

    public synchronized void reconcileEnded(Instant at, PassOutcome outcome, Optional<Gate> gate, int steps, String summary) {
        write("record a reconcile end", () -> db().update("""
                INSERT INTO last_reconcile (id, ended_at, outcome, gate, steps, summary) VALUES (1, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET ended_at = excluded.ended_at, outcome = excluded.outcome, gate = excluded.gate,
                  steps = excluded.steps, summary = excluded.summary""",
                Db.text(at), outcome.label(), gate.map(Gate::label).orElse(null), steps, summary));
    }

    public synchronized Optional<LastReconcile> lastReconcile() {
        return call("read the last reconcile", () -> db().one("SELECT started_at, ended_at, outcome, gate, steps, summary FROM last_reconcile",
                rs -> new LastReconcile(Optional.ofNullable(rs.getString(1)).map(Db::instant), Optional.ofNullable(rs.getString(2)).map(Db::instant),
                        Optional.ofNullable(rs.getString(3)).flatMap(PassOutcome::ofLabel), Optional.ofNullable(rs.getString(4)).flatMap(Gate::ofLabel),
                        rs.getInt(5), Optional.ofNullable(rs.getString(6)).orElse(""))));
    }

    /** Events written after event {@code id}, oldest first: what {@code events --follow} prints next. */
    public synchronized List<Event> eventsAfter(long id) {
        return call("read events", () -> db().query("SELECT id, at, action, target, outcome, reason, detail FROM event WHERE id > ? ORDER BY id",
                rs -> new Event(rs.getLong(1), Db.instant(rs.getString(2)), rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6), rs.getString(7)), id));
    }

    /**
     * SQLite's {@code PRAGMA data_version}: changes when another connection (the daemon, the CLI) commits to this
     * database, so a watcher re-reads only when something was written.
     */
    public synchronized long dataVersion() {
        return call("read the data version", () -> db().one("PRAGMA data_version", rs -> rs.getLong(1)).orElseThrow());
    }

    public synchronized Optional<LastDecision> lastDecision() {
        return call("read the last decision", () -> db().one("SELECT action, gate, reason FROM last_decision",
                rs -> new LastDecision(rs.getString(1), Optional.ofNullable(rs.getString(2)).flatMap(Gate::ofLabel), rs.getString(3))));
    }

    public synchronized void recordDecision(LastDecision d) {
        write("record the last decision", () -> db().update("""
                INSERT INTO last_decision (id, action, gate, reason) VALUES (1, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET action = excluded.action, gate = excluded.gate, reason = excluded.reason""",
                d.action(), d.gate().map(Gate::label).orElse(null), d.reason()));
    }

    public synchronized Optional<StepInFlight> stepInFlight() {
        return call("read the step in flight", () -> db().one("SELECT action, target FROM step_in_flight", rs -> new StepInFlight(rs.getString(1), rs.getString(2))));
    }

    public synchronized void stepBegins(StepInFlight step) {
        write("record the step in flight", () -> db().update(
                "INSERT INTO step_in_flight (id, action, target) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET action = excluded.action, target = excluded.target",
                step.action(), step.target()));
    }

    /** Idempotent, like {@link #journalClear}. */
    public synchronized void stepEnded() {
        write("clear the step in flight", () -> db().update("DELETE FROM step_in_flight"));
    }

    public synchronized void remove(String key) {
        write("remove fact " + key, () -> db().update("DELETE FROM fact WHERE key = ?", key));
    }

    @Override
    public synchronized void close() {
        if (db == null) return;
        try {
            db.close();
        } catch (SQLException e) {
            throw new StateStoreException("cannot close the state database " + file + ": " + e.getMessage(), e);
        } finally {
            db = null;
        }
    }

    private Db db() {
        if (db == null) throw new IllegalStateException("the state store " + file + " is closed");
        return db;
    }

    private <T> T call(String what, Db.Work<T> work) {
        try {
            return work.run();
        } catch (SQLException e) {
            throw new StateStoreException("cannot " + what + " in " + file + ": " + e.getMessage(), e);
        }
    }

    private <T> T write(String what, Db.Work<T> work) {
        return call(what, () -> db().tx(work));
    }

    /** Creates the missing directories of {@code dir} with mode 0700; existing ones are left as the operator made them. */
    private static void createPrivateDirs(Path dir) throws IOException {
        if (dir == null || Files.isDirectory(dir)) return;
        createPrivateDirs(dir.getParent());
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(dir)) throw e;
        }
    }

    /** SQLite would create the file with the umask's mode; -wal and -shm copy the database's mode, so set it first. */
    private static void createPrivateFile(Path file) throws IOException {
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (FileAlreadyExistsException e) {
            // an existing database keeps its mode
        }
    }
}
