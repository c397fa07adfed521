package t3.reconciler.controller.actuator.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import t3.reconciler.controller.security.Hostile;

/** Real SQLite files shaped like a t3 user database, and the tools to poke them. */
final class Fixtures {
    /** A t3-like database in WAL mode, as its server leaves it: projections with and without rowids, and other tables. */
    static Path userDb(Path file) throws SQLException {
        sql(file,
                "PRAGMA journal_mode = WAL",
                "CREATE TABLE projection_threads (id TEXT PRIMARY KEY, title TEXT, messages INTEGER NOT NULL DEFAULT 0)",
                "CREATE TABLE projection_messages (id INTEGER PRIMARY KEY, thread TEXT NOT NULL, body TEXT)",
                "CREATE TABLE projection_cursors (name TEXT PRIMARY KEY, pos INTEGER) WITHOUT ROWID",
                "CREATE TABLE events (seq INTEGER PRIMARY KEY, payload TEXT)",
                "INSERT INTO projection_threads (id, title) VALUES ('t1', 'first'), ('t2', 'second')",
                "INSERT INTO projection_cursors VALUES ('a', 1), ('b', 2)");
        List<String> messages = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            messages.addAll(List.of("INSERT INTO projection_messages (thread, body) VALUES ('t1', 'hello " + i + "')",
                    "UPDATE projection_threads SET messages = messages + 1 WHERE id = 't1'",
                    "INSERT INTO events (payload) VALUES ('m" + i + "')"));
        }
        sql(file, messages.toArray(String[]::new));
        return file;
    }

    /** {@code <dir>/home/<user>/.t3/userdata}, made for a real local account (created once, kept for later runs). */
    static Path home(Path dir, String user) throws IOException {
        Hostile.requireRoot();
        Hostile.ensureUser(user);
        return Files.createDirectories(dir.resolve("home").resolve(user));
    }

    /**
     * Hands the home to its account, as a server would have it: the account can reach it through {@code dir}
     * (JUnit makes temp directories 0700) and owns everything in it.
     */
    static void giveHome(Path dir, String user) throws IOException, InterruptedException {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        Files.setPosixFilePermissions(dir.resolve("home"), PosixFilePermissions.fromString("rwx--x--x"));
        run(List.of("chown", "-R", user + ":", dir.resolve("home").resolve(user).toString()));
    }

    static void sql(Path db, String... statements) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
            s.execute("PRAGMA busy_timeout = 10000");
            for (String sql : statements) s.execute(sql);
        }
    }

    /** Reads a file without touching it or anything beside it. */
    static long number(Path db, String sql) throws SQLException {
        try (Connection c = Sqlite.frozen(db); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The sqlite3 shell, optionally as another user: a second process, as the user's server is. */
    static String sqlite3(String asUser, Path db, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        if (asUser != null) cmd.addAll(List.of("runuser", "-u", asUser, "--"));
        cmd.addAll(List.of("sqlite3", "-batch", db.toString()));
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    static String run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new IOException(cmd + " failed: " + out);
        return out.strip();
    }

    private Fixtures() {}
}
