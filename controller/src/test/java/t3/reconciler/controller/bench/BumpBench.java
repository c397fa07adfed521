package t3.reconciler.controller.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Issue 6: end-to-end bump wall time on the bed ({@code bin/t3-reconciler run --once}, a real process), for 3 and 20
 * users, broken down by step from the event log's timestamps; then MTTR: a bump of a build whose migration fails on
 * real data (caught by the health check) and of one that fails on one user's data only (caught by the canary on the
 * last user), from the start of the bump to breaker open, binary back and rollback finished.
 */
final class BumpBench {
    static final String BASE = "0.0.25-nightly.20260601.1";

    record Event(Instant at, String action, String target, String outcome) {}

    record Run(String what, int users, Instant t0, Instant end, List<Event> events, int exit) {
        Duration wall() { return Duration.between(t0, end); }

        /** Per action: {count, seconds}, each event's duration from the previous event (the first from the process start). */
        Map<String, double[]> byStep() {
            Map<String, double[]> m = new LinkedHashMap<>();
            Instant prev = t0;
            for (Event e : events) {
                double s = Duration.between(prev, e.at()).toMillis() / 1000.0;
                double[] c = m.computeIfAbsent(e.action(), k -> new double[2]);
                c[0]++;
                c[1] += s;
                prev = e.at();
            }
            double[] tail = m.computeIfAbsent("(after the last step: hold/converged pass end, exit)", k -> new double[2]);
            tail[0] = 1;
            tail[1] = Duration.between(prev, end).toMillis() / 1000.0;
            return m;
        }

        double at(String action, String outcome) {
            for (Event e : events) {
                if (e.action().equals(action) && (outcome == null || outcome.equals(e.outcome()))) return Duration.between(t0, e.at()).toMillis() / 1000.0;
            }
            return Double.NaN;
        }
    }

    static void run() throws Exception {
        List<Integer> sizes = Bench.intsOpt("users", "3,20");
        int max = sizes.stream().mapToInt(Integer::intValue).max().orElseThrow();
        String[] all = new String[max];
        for (int i = 0; i < max; i++) all[i] = String.format("t3bb-%02d", i + 1);
        Path dir = Bench.work().resolve("bump-" + UUID.randomUUID().toString().substring(0, 6));
        System.out.println("bed up at " + dir + " with " + max + " users ...");
        Path spec = Path.of(Sh.bed(dir, DaemonBench.concat("up", new String[] {dir.toString()}, all)).strip().lines().reduce((a, b) -> b).orElseThrow());
        String original = Files.readString(spec);
        Path db = dir.resolve("state/state.db");
        List<Run> bumps = new ArrayList<>();
        List<Run> failures = new ArrayList<>();
        int build = 2;
        try {
            for (int n : sizes) {
                Files.writeString(spec, original.replaceFirst("(?m)^users: \\[.*]$", "users: [" + String.join(", ", List.of(all).subList(0, n)) + "]"));
                once(spec, db, "warm-up (adopt, daily backups, bring newly managed users to the installed version)", n);
                String v = "0.0.26-nightly.20260702." + build++;
                Sh.bed(dir, "publish", dir.toString(), v, "good", "nightly");
                bumps.add(once(spec, db, "good bump to " + v, n));
                System.out.printf("bump of %d users: %.1f s%n", n, bumps.get(bumps.size() - 1).wall().toMillis() / 1000.0);
            }
            int n = max;
            String bad = "0.0.27-nightly.20260703." + build++;
            Sh.bed(dir, "publish", dir.toString(), bad, "migration-fails-populated", "nightly");
            failures.add(once(spec, db, "health-check failure (" + bad + ": migration fails on populated data)", n));
            if (!Bench.opts.containsKey("no-canary-mttr")) {
                BumpBench.unfreeze(spec, Map.of());
                Sh.bed(dir, "archive-thread", dir.toString(), all[n - 1]);
                String bad2 = "0.0.28-nightly.20260704." + build++;
                Sh.bed(dir, "publish", dir.toString(), bad2, "migration-fails-archived", "nightly");
                failures.add(once(spec, db, "canary failure, " + all[n - 1] + " of " + n + " users (" + bad2 + ": migration fails on archived threads)", n));
            }
        } finally {
            Files.writeString(spec, original);
            Sh.bed(dir, "down", dir.toString());
        }

        Table t = new Table("End-to-end bump wall time by step (`run --once`, real process on the bed; seconds, from the event log)",
                bumpHead(bumps));
        Map<String, double[][]> rows = new LinkedHashMap<>();
        for (int i = 0; i < bumps.size(); i++) {
            for (var e : bumps.get(i).byStep().entrySet()) rows.computeIfAbsent(e.getKey(), k -> new double[bumps.size()][])[i] = e.getValue();
        }
        for (var e : rows.entrySet()) {
            List<Object> cells = new ArrayList<>(List.of("`" + e.getKey() + "`"));
            for (double[] c : e.getValue()) cells.add(c == null ? "-" : String.format("%.1f (×%d)", c[1], (int) c[0]));
            t.row(cells.toArray());
        }
        List<Object> wall = new ArrayList<>(List.of("**wall, process start to exit**"));
        for (Run r : bumps) wall.add(String.format("**%.1f**", r.wall().toMillis() / 1000.0));
        t.row(wall.toArray());
        List<Object> per = new ArrayList<>(List.of("wall per user"));
        for (Run r : bumps) per.add(String.format("%.2f", r.wall().toMillis() / 1000.0 / r.users()));
        t.row(per.toArray());
        if (bumps.size() > 1) {
            Run a = bumps.get(0), b = bumps.get(bumps.size() - 1);
            t.note(String.format("%d → %d users (%s): wall %s. The first event's time includes JVM start, recovery check, observe and `npm view`.",
                    a.users(), b.users(), Table.x((double) b.users() / a.users()), Table.x((double) b.wall().toMillis() / a.wall().toMillis())));
        }
        t.print();

        Table m = new Table("MTTR: from the start of a bump of a broken build (seconds, " + max + " users)",
                "case", "failure detected", "breaker open", "binary back (link switched)", "rollback finished", "wall, process exit", "vs good bump of the same users");
        Run good = bumps.get(bumps.size() - 1);
        for (Run r : failures) {
            String detected = r.what().startsWith("health") ? "health-check" : "canary";
            m.row(r.what(), sec(r.at(detected, "failed")), sec(r.at("open-breaker", null)),
                    Double.isNaN(r.at("rollback-binary", null)) ? "n/a: the link never moved" : sec(r.at("rollback-binary", null)), sec(r.at("finish-rollback", null)),
                    String.format("%.1f", r.wall().toMillis() / 1000.0), Table.x((double) r.wall().toMillis() / good.wall().toMillis()));
        }
        m.note("Times are from the process start to the event's timestamp in the state DB's event log. Every case includes the pre-bump backup of every user.");
        m.print();
    }

    static String sec(double s) { return Double.isNaN(s) ? "-" : String.format("%.1f", s); }

    static String[] bumpHead(List<Run> bumps) {
        List<String> h = new ArrayList<>(List.of("step (count)"));
        for (Run r : bumps) h.add(r.users() + " users: s (×count)");
        return h.toArray(String[]::new);
    }

    /** {@code bin/t3-reconciler run --once -f SPEC} as a real process; the events it wrote. */
    static Run once(Path spec, Path db, String what, int users) throws Exception { return once(spec, db, what, users, Map.of()); }

    static Run once(Path spec, Path db, String what, int users, Map<String, String> env) throws Exception {
        long fromId = lastEventId(db);
        System.out.println(what + " ...");
        Instant t0 = Instant.now();
        int exit;
        if (Bench.opts.containsKey("jar") && !env.containsKey("T3R_JAR")) {
            env = new java.util.HashMap<>(env);
            env.put("T3R_JAR", ScriptBench.jar());
        }
        try (DaemonProc d = DaemonProc.start(spec, null, true, env, "run", "--once", "-f", spec.toString())) {
            if (!d.process.waitFor(30, TimeUnit.MINUTES)) throw new IllegalStateException(what + ": run --once did not finish\n" + d.tail());
            exit = d.process.exitValue();
            if (what.startsWith("good") && exit != 0) throw new IllegalStateException(what + ": exit " + exit + "\n" + d.tail());
        }
        Instant end = Instant.now();
        return new Run(what, users, t0, end, events(db, fromId), exit);
    }

    /** {@code unfreeze} by the same build as the runs (--jar): an older build refuses a state DB a newer one migrated. */
    static void unfreeze(Path spec, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Bench.root().resolve("bin/t3-reconciler").toString(), "unfreeze", "-f", spec.toString(), "--reason", "bench: next case")
                .redirectErrorStream(true);
        pb.environment().putAll(env);
        if (Bench.opts.containsKey("jar") && !env.containsKey("T3R_JAR")) pb.environment().put("T3R_JAR", ScriptBench.jar());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new java.io.IOException("unfreeze failed:\n" + out);
    }

    static long lastEventId(Path db) throws Exception {
        if (!Files.exists(db)) return 0;
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT coalesce(max(id), 0) FROM event")) {
            return r.getLong(1);
        }
    }

    static List<Event> events(Path db, long afterId) throws Exception {
        List<Event> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT at, action, target, outcome FROM event WHERE id > " + afterId + " ORDER BY id")) {
            while (r.next()) out.add(new Event(Instant.parse(r.getString(1)), r.getString(2), r.getString(3), r.getString(4)));
        }
        return out;
    }

    private BumpBench() {}
}
