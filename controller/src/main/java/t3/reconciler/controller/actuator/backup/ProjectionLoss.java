package t3.reconciler.controller.actuator.backup;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What a restore throws away: rows of the current database's {@code projection_*} tables whose rowid the backup
 * does not have (rows written after the backup). A table the backup lacks loses all its rows; a WITHOUT ROWID
 * table, having no rowid to match, counts the difference in row counts, floored at 0.
 */
final class ProjectionLoss {
    static long count(Path current, Path backup) throws SQLException {
        try (Connection c = Sqlite.live(current); Statement s = c.createStatement()) {
            try (PreparedStatement attach = c.prepareStatement("ATTACH ? AS bak")) {
                attach.setString(1, Sqlite.uri(backup, "immutable=1"));
                attach.execute();
            }
            Set<String> inBackup = new HashSet<>(strings(s, "SELECT name FROM bak.sqlite_schema WHERE type = 'table'"));
            long lost = 0;
            try (ResultSet rs = s.executeQuery("SELECT name, wr FROM pragma_table_list "
                    + "WHERE schema = 'main' AND type = 'table' AND name LIKE 'projection\\_%' ESCAPE '\\'")) {
                List<String[]> tables = new ArrayList<>();
                while (rs.next()) tables.add(new String[] {rs.getString(1), rs.getString(2)});
                for (String[] t : tables) lost += lost(s, t[0], "1".equals(t[1]), inBackup.contains(t[0]));
            }
            return lost;
        }
    }

    private static long lost(Statement s, String table, boolean withoutRowid, boolean inBackup) throws SQLException {
        String q = quote(table);
        if (!inBackup) return number(s, "SELECT count(*) FROM main." + q);
        if (withoutRowid) return Math.max(0, number(s, "SELECT (SELECT count(*) FROM main." + q + ") - (SELECT count(*) FROM bak." + q + ")"));
        return number(s, "SELECT count(*) FROM main." + q + " AS c WHERE NOT EXISTS (SELECT 1 FROM bak." + q + " AS b WHERE b._rowid_ = c._rowid_)");
    }

    /** Table names come from the user's database: quote them as identifiers, never trust them as SQL. */
    static String quote(String identifier) { return "\"" + identifier.replace("\"", "\"\"") + "\""; }

    private static long number(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static List<String> strings(Statement s, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) out.add(rs.getString(1));
        }
        return out;
    }

    private ProjectionLoss() {}
}
