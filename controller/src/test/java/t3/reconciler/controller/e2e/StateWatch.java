package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** What the shutdown tests watch in the controller's state database. */
final class StateWatch {
    static final Duration TIMEOUT = Duration.ofSeconds(180);

    private StateWatch() {}

    /**
     * The target of the step {@code action} while it is in flight: the journal entry the executor writes before it
     * starts. Looked up at every change in the state directory (each write touches the database's WAL), not on a timer.
     */
    static String awaitJournal(Bed bed, DaemonProcess daemon, String action) throws Exception {
        Path db = bed.stateDb();
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        try (WatchService ws = db.getFileSystem().newWatchService()) {
            db.getParent().register(ws, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
            while (System.nanoTime() < deadline) {
                if (!daemon.process.isAlive()) fail("the daemon exited\n" + daemon.tail());
                Optional<String> user = journal(db, action);
                if (user.isPresent()) return user.get();
                WatchKey key = ws.poll(1, TimeUnit.SECONDS);
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                }
            }
        }
        fail("no " + action + " in flight within " + TIMEOUT.toSeconds() + " s\n" + daemon.tail());
        return null;
    }

    static Optional<String> journal(Path db, String action) {
        if (!Files.exists(db)) return Optional.empty();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + db + "?mode=ro");
             PreparedStatement q = c.prepareStatement("SELECT target FROM journal WHERE action = ?")) {
            q.setString(1, action);
            try (ResultSet r = q.executeQuery()) {
                return r.next() ? Optional.of(r.getString(1)) : Optional.empty();
            }
        } catch (java.sql.SQLException e) {
            return Optional.empty(); // not created yet, or busy: the next change looks again
        }
    }

    static String integrity(Path db) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + db + "?mode=ro");
             ResultSet r = c.createStatement().executeQuery("PRAGMA integrity_check")) {
            r.next();
            return r.getString(1);
        }
    }
}
