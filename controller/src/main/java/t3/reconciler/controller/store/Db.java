package t3.reconciler.controller.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** One JDBC connection with just enough helpers to keep SQL readable in {@link StateStore}. Not thread-safe. */
final class Db implements AutoCloseable {
    /**
     * Fixed-width UTC with nanoseconds: sorts as text (so {@code at >= ?} is a plain index range), round-trips an
     * {@link Instant} exactly, and reads well in the {@code sqlite3} shell.
     */
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSSSSS'Z'").withZone(ZoneOffset.UTC);

    @FunctionalInterface interface Rows<T> { T map(ResultSet rs) throws SQLException; }
    @FunctionalInterface interface Work<T> { T run() throws SQLException; }

    private final Connection conn;

    Db(Connection conn) { this.conn = conn; }

    static String text(Instant t) { return TIME.format(t); }

    static Instant instant(String s) { return s == null ? null : Instant.parse(s); }

    /**
     * Runs {@code work} in a {@code BEGIN IMMEDIATE} transaction: the write lock is taken up front (waiting out
     * busy_timeout) so a read-then-write can never fail half-way on a lock upgrade against the CLI.
     */
    <T> T tx(Work<T> work) throws SQLException {
        exec("BEGIN IMMEDIATE");
        try {
            T result = work.run();
            exec("COMMIT");
            return result;
        } catch (SQLException | RuntimeException | Error e) {
            try {
                exec("ROLLBACK");
            } catch (SQLException rollback) {
                e.addSuppressed(rollback); // the transaction may already be gone (SQLite rolls back on some errors)
            }
            throw e;
        }
    }

    void exec(String sql) throws SQLException {
        try (Statement s = conn.createStatement()) {
            s.execute(sql);
        }
    }

    int update(String sql, Object... args) throws SQLException {
        try (PreparedStatement p = prepare(sql, args)) {
            return p.executeUpdate();
        }
    }

    <T> List<T> query(String sql, Rows<T> rows, Object... args) throws SQLException {
        try (PreparedStatement p = prepare(sql, args); ResultSet rs = p.executeQuery()) {
            List<T> out = new ArrayList<>();
            while (rs.next()) out.add(rows.map(rs));
            return out;
        }
    }

    <T> Optional<T> one(String sql, Rows<T> rows, Object... args) throws SQLException {
        List<T> all = query(sql, rows, args);
        if (all.size() > 1) throw new SQLException("expected at most one row from: " + sql);
        return all.stream().findFirst();
    }

    int pragmaInt(String name) throws SQLException {
        return one("PRAGMA " + name, rs -> rs.getInt(1)).orElseThrow();
    }

    private PreparedStatement prepare(String sql, Object... args) throws SQLException {
        PreparedStatement p = conn.prepareStatement(sql);
        try {
            for (int i = 0; i < args.length; i++) p.setObject(i + 1, args[i]);
            return p;
        } catch (SQLException e) {
            p.close();
            throw e;
        }
    }

    @Override
    public void close() throws SQLException { conn.close(); }
}
