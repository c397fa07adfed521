package t3.reconciler.controller.bench;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import t3.reconciler.controller.actuator.backup.SqliteBackups;
import t3.reconciler.model.Version;

/**
 * Backup throughput on a populated DB while a writer commits every 10 ms: our {@link SqliteBackups#backup} (VACUUM
 * INTO + integrity_check + fsync + sha256 sidecar), a bare VACUUM INTO, {@code sqlite3 .backup}, and {@code cp}.
 * The CLI's {@code .backup} copies 100 pages per step and restarts whenever another connection writes, so under a
 * writer it may never finish: it is bounded by {@code --backup-timeout} (s) and also timed with the writer paused.
 */
final class BackupBench {
    interface Method {
        /** @return the file made, or null when the method was cut off */
        Path run(Path db, Path out) throws Exception;
    }

    record M(String name, boolean pauseWriter, Method m) {}

    static void run() throws Exception {
        Path db = Dbs.populated();
        Path dir = Bench.work().resolve("backup");
        Files.createDirectories(dir);
        SqliteBackups backups = new SqliteBackups(dir.resolve("backups"));
        String user = owner(db);
        Version v = Version.parse("0.0.25-nightly.20260601.1");
        int reps = Bench.intOpt("reps", 3);
        int cutoff = Bench.intOpt("backup-timeout", 60);

        List<M> methods = List.of(
                new M("`cp` (physical bound, baseline)", false, (a, b) -> { Sh.ok("cp", a.toString(), b.toString()); return b; }),
                new M("`cp` + fsync", false, (a, b) -> { Sh.ok("cp", a.toString(), b.toString()); fsync(b); return b; }),
                new M("`sqlite3 .backup` (CLI), writer running", false, (a, b) -> cli(a, b, cutoff)),
                new M("`sqlite3 .backup` (CLI), writer paused", true, (a, b) -> cli(a, b, cutoff)),
                new M("bare `VACUUM INTO` (sqlite-jdbc)", false, (a, b) -> { vacuumInto(a, b); return b; }),
                new M("**`SqliteBackups.backup`** (VACUUM INTO + integrity_check + fsync + sha256)", false, (a, b) -> backups.backup(user, a, v).path()));

        Map<String, List<Double>> ms = new LinkedHashMap<>();
        Map<String, Long> commits = new LinkedHashMap<>();
        Map<String, Integer> cut = new LinkedHashMap<>();
        methods.forEach(k -> { ms.put(k.name(), new ArrayList<>()); commits.put(k.name(), 0L); cut.put(k.name(), 0); });
        long bytes;
        try (Populated.Writer w = new Populated.Writer(db, 10)) {
            for (int r = 0; r < reps; r++) {
                for (M m : methods) {
                    if (cut.get(m.name()) > 0) continue; // cut off once: not again
                    Path out = dir.resolve("out.sqlite");
                    w.paused = m.pauseWriter();
                    long c0 = w.commits(), t0 = System.nanoTime();
                    Path made = m.m().run(db, out);
                    double took = (System.nanoTime() - t0) / 1e6;
                    w.paused = false;
                    if (made == null) cut.merge(m.name(), 1, Integer::sum);
                    else ms.get(m.name()).add(took);
                    commits.merge(m.name(), w.commits() - c0, Long::sum);
                    for (Path p : new Path[] {out, made == null ? out : made}) {
                        Files.deleteIfExists(p);
                        Files.deleteIfExists(p.resolveSibling(p.getFileName() + ".sha256"));
                        Files.deleteIfExists(p.resolveSibling(p.getFileName() + "-journal"));
                    }
                }
            }
            bytes = Files.size(db);
        }
        double size = Dbs.mb(bytes);
        double base = Stats.of(ms.values().iterator().next()).median();
        Table t = new Table(String.format("Backup of a %.0f MB populated DB while a writer commits every 10 ms, median of %d", size, reps),
                "method", "median ms", "MB/s", "throughput vs cp", "writer commits during one run");
        for (M m : methods) {
            List<Double> xs = ms.get(m.name());
            if (xs.isEmpty()) {
                t.row(m.name(), "did not finish in " + cutoff + " s (killed)", "< " + String.format("%.0f", size / cutoff), "< " + Table.x(base / (cutoff * 1000.0)), commits.get(m.name()));
                continue;
            }
            Stats s = Stats.of(xs);
            t.row(m.name(), Table.ms(s.median()), String.format("%.0f", size / (s.median() / 1000)), Table.x(base / s.median()),
                    commits.get(m.name()) / (xs.size() + cut.get(m.name())));
        }
        t.note("MB/s is the source DB size over wall time; page cache warm. `cp` of a live WAL database is not a consistent backup: it is the physical bound only."
                + " The writer is never blocked by VACUUM INTO (a WAL reader). The CLI's `.backup` restarts its copy whenever another connection commits.");
        t.print();
    }

    /**
     * Whose database it is: a backup is taken by the database's user (a local account, never root). As root, a
     * system account made for the bench gets the data directory; otherwise it is ourselves.
     */
    static String owner(Path db) throws Exception {
        String me = System.getProperty("user.name");
        if (!me.equals("root")) return me;
        String user = "t3bn-backup";
        if (Sh.run(List.of("id", "-u", user)).exit() != 0) Sh.ok("useradd", "--system", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", user);
        Sh.ok("chown", "-R", user + ":", db.getParent().toString());
        return user;
    }

    static Path cli(Path db, Path out, int cutoff) throws Exception {
        double ms = Sh.timedOrKilled(cutoff, "sqlite3", db.toString(), ".timeout 10000", ".backup '" + out + "'");
        return ms < 0 ? null : out;
    }

    static void vacuumInto(Path db, Path out) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
            s.execute("PRAGMA busy_timeout = 10000");
            s.execute("VACUUM INTO '" + out.toString().replace("'", "''") + "'");
        }
    }

    static void fsync(Path f) throws Exception {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    private BackupBench() {}
}
