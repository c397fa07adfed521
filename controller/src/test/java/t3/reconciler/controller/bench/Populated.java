package t3.reconciler.controller.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;

/** A t3-shaped user database (WAL, projection_* tables) of about the asked size, and a writer that keeps writing to it. */
final class Populated {
    /** Creates {@code db} with ~{@code mb} MB of chat messages (1 KB each, 200 threads, indexed as a server would). */
    static void create(Path db, int mb) throws IOException, InterruptedException {
        Files.deleteIfExists(db);
        Files.createDirectories(db.getParent());
        int rows = mb * 1024 * 1024 / 1320; // a 1000-char body + row, date and index overhead
        String sql = """
                PRAGMA journal_mode=WAL;
                CREATE TABLE effect_sql_migrations (migration_id INTEGER PRIMARY KEY, created_at TEXT, name TEXT);
                INSERT INTO effect_sql_migrations VALUES (1, datetime('now'), 'init');
                CREATE TABLE projection_threads (id TEXT PRIMARY KEY, title TEXT, created_at TEXT, archived_at TEXT, messages INTEGER NOT NULL DEFAULT 0);
                CREATE TABLE projection_messages (id INTEGER PRIMARY KEY, thread TEXT NOT NULL, body TEXT NOT NULL, created_at TEXT);
                CREATE INDEX projection_messages_thread ON projection_messages(thread, id);
                WITH RECURSIVE t(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM t WHERE x < 200)
                  INSERT INTO projection_threads (id, title, created_at, messages) SELECT 't' || x, 'thread ' || x, datetime('now'), 0 FROM t;
                WITH RECURSIVE m(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM m WHERE x < %d)
                  INSERT INTO projection_messages (thread, body, created_at) SELECT 't' || (1 + x %% 200), hex(randomblob(500)), datetime('now') FROM m;
                PRAGMA wal_checkpoint(TRUNCATE);
                """.formatted(rows);
        Path f = db.resolveSibling(db.getFileName() + ".sql");
        Files.writeString(f, sql);
        Sh.ok("sqlite3", db.toString(), ".read " + f);
        Files.delete(f);
    }

    /** Commits one ~1 KB message every {@code everyMs} on its own connection until closed, as a busy server would. */
    static final class Writer implements AutoCloseable {
        private final Thread thread;
        private volatile boolean stop;
        volatile boolean paused;
        private volatile long commits;
        private volatile Throwable failure;

        Writer(Path db, int everyMs) {
            thread = new Thread(() -> {
                try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
                    s.execute("PRAGMA busy_timeout = 10000");
                    while (!stop) {
                        if (paused) {
                            Thread.sleep(everyMs);
                            continue;
                        }
                        s.execute("INSERT INTO projection_messages (thread, body, created_at) VALUES ('t2', hex(randomblob(500)), datetime('now'))");
                        commits++;
                        Thread.sleep(everyMs);
                    }
                } catch (Throwable t) {
                    failure = t;
                }
            }, "bench-writer");
            thread.setDaemon(true);
            thread.start();
        }

        long commits() { return commits; }

        @Override
        public void close() throws Exception {
            stop = true;
            thread.join(30_000);
            if (failure != null) throw new IllegalStateException("the writer failed", failure);
        }
    }

    private Populated() {}
}
