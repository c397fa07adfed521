package t3.reconciler.controller.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Issue 15: K users (default 5, {@code --down K}) down after a failed build, from the failure to all restored and
 * answering, by this build (the users who are down restored as one batch) and by {@code --jar J} (e.g. the previous
 * build: one restore step after the other), interleaved on one bed, {@code --rounds N} each (default 1).
 *
 * <p>The scenario, the same for both builds so that both count every user as touched: a build that migrates each
 * database and then exits under systemd ({@code migrate-then-crash-under-systemd}); the controller is stopped right
 * after each of the first K-1 canary restarts ({@code T3R_CRASH_AT=after-restart-<user>}, the crash-matrix hook), so
 * those users are left down on the build, restarted by the canary; the last {@code run --once} canaries user K, whose
 * server dies too, and rolls back: binary back, the K users restored. Measured from that run's events: the failed
 * canary to the last restore, and to {@code finish-rollback} (after every restored user paired again); then each
 * user's server is asked {@code GET /}.
 */
final class RestoreDownBench {
    static final String FLAVOR = "migrate-then-crash-under-systemd";

    record Case(String build, double toLastRestore, double toFinish, double wall, int restoreEvents, int answering) {}

    static void run() throws Exception {
        Map<String, String> builds = new LinkedHashMap<>();
        builds.put("this build", Bench.root().resolve("controller/target/t3-reconciler.jar").toString());
        if (Bench.opts.containsKey("jar")) builds.put("--jar " + Path.of(Bench.opts.get("jar")).getFileName(), ScriptBench.jar());
        measure(Bench.intOpt("down", 5), Bench.intOpt("rounds", 1), builds);
    }

    /** The row of {@code ./bench issue15}: 5 users down, one round, this build and the before jar (when given). */
    static final Issue15Rows.Extra ROW = new Issue15Rows.Extra() {
        public String name() { return "restore-down"; }

        public Issue15Rows.Row measure(String beforeJar) throws Exception {
            // Each build on a bed of its own: an older build refuses a state database a newer one migrated.
            double after = median(RestoreDownBench.measure(5, 1, Map.of("after", Bench.root().resolve("controller/target/t3-reconciler.jar").toString())), "after");
            double before = beforeJar == null ? Double.NaN : median(RestoreDownBench.measure(5, 1, Map.of("before", beforeJar)), "before");
            return new Issue15Rows.Row("5 users down after a failed build: failed canary → all restored and paired",
                    "restored together, not one at a time (no figure in the issue)", beforeJar == null ? "not run" : BumpBench.sec(before) + " s, one at a time",
                    BumpBench.sec(after) + " s" + (beforeJar == null ? "" : String.format(" (%.2f× before)", after / before)), after / before);
        }
    };

    /** @param builds name → shaded jar, measured interleaved on one bed */
    static List<Case> measure(int k, int rounds, Map<String, String> builds) throws Exception {
        if (k < 2) Bench.usage("--down must be at least 2 (one user down is a single restore either way)");
        String[] users = new String[k];
        for (int i = 0; i < k; i++) users[i] = String.format("t3rr-d%02d", i + 1);
        Path dir = Bench.work().resolve("restore-down-" + UUID.randomUUID().toString().substring(0, 6));
        System.out.println("bed up at " + dir + " with " + k + " users ...");
        Path spec = Path.of(Sh.bed(dir, DaemonBench.concat("up", new String[] {dir.toString()}, users)).strip().lines().reduce((a, b) -> b).orElseThrow());
        Path db = dir.resolve("state/state.db");
        List<Case> cases = new ArrayList<>();
        int serial = 1;
        try {
            pass(spec, env(builds.values().iterator().next(), null), "warm-up", null);
            for (int r = 0; r < rounds; r++) {
                List<String> order = new ArrayList<>(builds.keySet());
                if (r % 2 == 1) java.util.Collections.reverse(order); // interleaved: neither build always runs on a warmer machine
                for (String b : order) {
                    String v = "0.0.26-nightly.20260702." + serial++;
                    Sh.bed(dir, "publish", dir.toString(), v, FLAVOR, "nightly");
                    cases.add(scenario(dir, spec, db, builds.get(b), b, v, users));
                    BumpBench.unfreeze(spec, env(builds.get(b), null));
                }
            }
        } finally {
            Sh.bed(dir, "down", dir.toString());
        }

        Table t = new Table("Users down after a failed build (" + k + " users), failed canary → restored (seconds, from the event log of the rolling-back `run --once`)",
                "build", "→ last restore", "→ finish-rollback (all paired)", "rollback run, wall", "restore events", "answering GET / after");
        for (Case c : cases) t.row(c.build(), BumpBench.sec(c.toLastRestore()), BumpBench.sec(c.toFinish()), BumpBench.sec(c.wall()), c.restoreEvents(), c.answering() + "/" + k);
        if (builds.size() == 2) {
            List<String> names = new ArrayList<>(builds.keySet());
            double ours = median(cases, names.get(0)), theirs = median(cases, names.get(1));
            t.note(String.format("failed canary → finish-rollback, median: this build %.1f s, %s %.1f s: %s.", ours, names.get(1), theirs, Table.x(ours / theirs)));
        }
        t.note("Both builds on one bed, interleaved; start-up aids (AppCDS) off for both. Each case: K-1 runs stopped by T3R_CRASH_AT right after a canary"
                + " restart (those users left down on the build), then the measured run.");
        t.print();
        return cases;
    }

    /** One build's case: K-1 runs stopped after a canary restart each, then the run that fails the last canary and rolls back. */
    private static Case scenario(Path dir, Path spec, Path db, String jar, String build, String v, String[] users) throws Exception {
        for (int i = 0; i < users.length - 1; i++) pass(spec, env(jar, "after-restart-" + users[i]), build + ": canary " + users[i] + ", stopped after its restart", 137);
        long from = BumpBench.lastEventId(db);
        Instant t0 = Instant.now();
        pass(spec, env(jar, null), build + ": canary " + users[users.length - 1] + " fails, rollback", null);
        Instant end = Instant.now();
        List<BumpBench.Event> ev = BumpBench.events(db, from);
        Instant failed = ev.stream().filter(e -> e.action().equals("canary") && e.outcome().equals("failed")).map(BumpBench.Event::at).findFirst()
                .orElseThrow(() -> new IllegalStateException(build + ": no failed canary in " + ev));
        Instant lastRestore = ev.stream().filter(e -> e.action().equals("restore")).map(BumpBench.Event::at).reduce((a, b) -> b).orElse(null);
        Instant finish = ev.stream().filter(e -> e.action().equals("finish-rollback")).map(BumpBench.Event::at).findFirst().orElse(null);
        int answering = 0;
        for (String u : users) if (answers(dir, u)) answering++;
        return new Case(build, secs(failed, lastRestore), secs(failed, finish), Duration.between(t0, end).toMillis() / 1000.0,
                (int) ev.stream().filter(e -> e.action().equals("restore")).count(), answering);
    }

    private static Map<String, String> env(String jar, String crashAt) {
        Map<String, String> env = new HashMap<>(Map.of("T3R_JAR", jar, "T3R_CDS_ARCHIVE", "/nonexistent/t3-reconciler.jsa"));
        if (crashAt != null) env.put("T3R_CRASH_AT", crashAt);
        return env;
    }

    /** {@code run --once}; {@code expectExit} null: any exit but a crash. */
    private static void pass(Path spec, Map<String, String> env, String what, Integer expectExit) throws Exception {
        System.out.println(what + " ...");
        try (DaemonProc d = DaemonProc.start(spec, null, false, env, "run", "--once", "-f", spec.toString())) {
            if (!d.process.waitFor(10, TimeUnit.MINUTES)) throw new IllegalStateException(what + ": run --once did not finish\n" + d.tail());
            int exit = d.process.exitValue();
            if (expectExit != null ? exit != expectExit : exit == 137) throw new IllegalStateException(what + ": exit " + exit + "\n" + d.tail());
        }
    }

    private static boolean answers(Path dir, String user) throws Exception {
        for (String line : Files.readAllLines(dir.resolve("systemd/ports").resolve(user + ".env"), StandardCharsets.UTF_8)) {
            if (!line.startsWith("PORT=")) continue;
            var c = (java.net.HttpURLConnection) new java.net.URL("http://127.0.0.1:" + line.substring(5).strip() + "/").openConnection();
            c.setConnectTimeout(2000);
            c.setReadTimeout(2000);
            try {
                return c.getResponseCode() == 200;
            } catch (java.io.IOException e) {
                return false;
            } finally {
                c.disconnect();
            }
        }
        return false;
    }

    private static double secs(Instant a, Instant b) { return b == null ? Double.NaN : Duration.between(a, b).toMillis() / 1000.0; }

    private static double median(List<Case> cases, String build) {
        double[] v = cases.stream().filter(c -> c.build().equals(build)).mapToDouble(Case::toFinish).sorted().toArray();
        return v.length == 0 ? Double.NaN : v[v.length / 2];
    }

    private RestoreDownBench() {}
}
