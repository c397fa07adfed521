package t3.reconciler.controller.actuator.backup;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.sqlite.SQLiteConfig;

/** How this package opens SQLite files, so that opening one never changes it or what lies beside it. */
final class Sqlite {
    static final List<String> SIDECARS = List.of("-wal", "-shm", "-journal");
    private static final int BUSY_TIMEOUT_MS = 30_000;
    private static final byte[] HEADER = "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);

    /**
     * A database with its -wal, read-only: never written. SQLite still needs a -shm to read a WAL database and creates
     * one if absent, so open only files in a directory of ours.
     */
    static Connection live(Path db) throws SQLException {
        SQLiteConfig c = new SQLiteConfig();
        c.setReadOnly(true);
        c.setBusyTimeout(BUSY_TIMEOUT_MS);
        return c.createConnection("jdbc:sqlite:" + uri(db, "mode=ro"));
    }

    /**
     * A file nobody writes (a backup, a temp copy): {@code immutable=1} reads it without locks, without a WAL
     * and without creating anything beside it.
     */
    static Connection frozen(Path db) throws SQLException {
        SQLiteConfig c = new SQLiteConfig();
        c.setReadOnly(true);
        return c.createConnection("jdbc:sqlite:" + uri(db, "immutable=1"));
    }

    static String uri(Path db, String query) {
        try {
            return new URI("file", null, db.toAbsolutePath().toString(), query, null).toASCIIString();
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("cannot make a SQLite URI of " + db, e);
        }
    }

    /** {@code "ok"}, or what {@code PRAGMA integrity_check} (or opening the file) found wrong. */
    static String integrity(Path file) {
        // An empty or truncated-to-nothing file opens as a valid empty database: the header is the first check.
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            if (!Arrays.equals(in.readNBytes(HEADER.length), HEADER)) return "not a SQLite database (no SQLite header)";
        } catch (IOException e) {
            return "cannot read: " + e.getMessage();
        }
        try (Connection c = frozen(file); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA integrity_check(20)")) {
            List<String> found = new ArrayList<>();
            while (rs.next()) found.add(rs.getString(1));
            return found.isEmpty() ? "integrity_check returned nothing" : String.join("; ", found);
        } catch (SQLException e) {
            return e.getMessage();
        }
    }

    static Path sidecar(Path db, String suffix) { return db.resolveSibling(db.getFileName() + suffix); }

    private Sqlite() {}
}
