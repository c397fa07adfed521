package t3.reconciler.controller.actuator.backup;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;

/**
 * Keeps writing to a user database as its server would, on its own connection, until closed. Each transaction
 * adds a message to thread t2 and bumps t2's counter, so a consistent snapshot always has them equal.
 */
final class Writer implements AutoCloseable {
    private final Path db;
    private final Thread thread;
    private long committed;
    private boolean stop;
    private Throwable failure;

    Writer(Path db) {
        this.db = db;
        this.thread = new Thread(this::run, "writer");
        thread.start();
    }

    private void run() {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
            s.execute("PRAGMA busy_timeout = 10000");
            while (!stopping()) {
                s.execute("BEGIN IMMEDIATE");
                s.execute("INSERT INTO projection_messages (thread, body) VALUES ('t2', hex(randomblob(1000)))");
                s.execute("UPDATE projection_threads SET messages = messages + 1 WHERE id = 't2'");
                s.execute("COMMIT");
                synchronized (this) {
                    committed++;
                    notifyAll();
                }
            }
        } catch (Throwable t) {
            synchronized (this) {
                failure = t;
                notifyAll();
            }
        }
    }

    private synchronized boolean stopping() { return stop; }

    synchronized long committed() { return committed; }

    /** Blocks until at least {@code n} transactions are committed. */
    synchronized void awaitCommitted(long n) throws InterruptedException {
        while (committed < n && failure == null) wait();
        if (failure != null) throw new AssertionError("the writer failed", failure);
    }

    @Override
    public void close() {
        synchronized (this) {
            stop = true;
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while stopping the writer", e);
        }
        if (failure != null) throw new AssertionError("the writer failed", failure);
    }
}
