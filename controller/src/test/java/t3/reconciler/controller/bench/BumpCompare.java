package t3.reconciler.controller.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A change's cost on a good bump, measured in one run: this build and another one ({@code --baseline-jar}, say the
 * jar of the commit before the change) each drive a bed of their own with the same number of users, and their bumps
 * alternate (ABBA order), so load on the shared machine hits both alike. Each bed has its own state DB: an older
 * build would refuse a state DB a newer one migrated.
 */
final class BumpCompare {
    static void run() throws Exception {
        String baseline = Bench.opts.get("baseline-jar");
        if (baseline == null || !Files.isRegularFile(Path.of(baseline))) Bench.usage("bump-compare needs --baseline-jar JAR (an existing file)");
        int users = Bench.intOpt("users", 3);
        int rounds = Bench.intOpt("rounds", 5);
        Twin before = Twin.up("before", "t3bx", users, Map.of("T3R_JAR", Path.of(baseline).toAbsolutePath().toString()));
        Twin after = Twin.up("after", "t3by", users, Map.of());
        List<double[]> walls = new ArrayList<>();
        try {
            before.once("warm-up (adopt, daily backups)");
            after.once("warm-up (adopt, daily backups)");
            for (int i = 0; i < rounds; i++) {
                String v = "0.0.26-nightly.20260702." + (i + 2);
                boolean beforeFirst = i % 2 == 0;
                double a = 0, b = 0;
                for (Twin t : beforeFirst ? List.of(before, after) : List.of(after, before)) {
                    Sh.bed(t.dir, "publish", t.dir.toString(), v, "good", "nightly");
                    BumpBench.Run r = t.once("good bump to " + v + " (" + t.name + ")");
                    if (r.exit() != 0) throw new IllegalStateException(t.name + ": bump to " + v + " exited " + r.exit());
                    if (t == before) a = r.wall().toMillis() / 1000.0;
                    else b = r.wall().toMillis() / 1000.0;
                }
                walls.add(new double[] {a, b});
                System.out.printf("round %d: before %.1f s, after %.1f s%n", i + 1, a, b);
            }
        } finally {
            before.down();
            after.down();
        }
        Table t = new Table("Good bump of " + users + " users, this build vs --baseline-jar " + baseline + " (`run --once`, twin beds, ABBA order; seconds)",
                "round", "baseline", "this build", "ratio");
        for (int i = 0; i < walls.size(); i++) t.row(i + 1, String.format("%.1f", walls.get(i)[0]), String.format("%.1f", walls.get(i)[1]), Table.x(walls.get(i)[1] / walls.get(i)[0]));
        double ma = median(walls, 0), mb = median(walls, 1);
        t.row("**median**", String.format("**%.1f**", ma), String.format("**%.1f**", mb), "**" + Table.x(mb / ma) + "**");
        t.print();
    }

    static double median(List<double[]> rows, int col) {
        double[] v = rows.stream().mapToDouble(r -> r[col]).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    record Twin(String name, Path dir, Path spec, int users, Map<String, String> env) {
        static Twin up(String name, String prefix, int users, Map<String, String> env) throws Exception {
            String[] all = new String[users];
            for (int i = 0; i < users; i++) all[i] = String.format("%s-%02d", prefix, i + 1);
            Path dir = Bench.work().resolve("cmp-" + name + "-" + UUID.randomUUID().toString().substring(0, 6));
            System.out.println(name + ": bed up at " + dir + " with " + users + " users ...");
            Path spec = Path.of(Sh.bed(dir, DaemonBench.concat("up", new String[] {dir.toString()}, all)).strip().lines().reduce((a, b) -> b).orElseThrow());
            return new Twin(name, dir, spec, users, env);
        }

        BumpBench.Run once(String what) throws Exception {
            return BumpBench.once(spec, dir.resolve("state/state.db"), what, users, env);
        }

        void down() throws Exception { Sh.bed(dir, "down", dir.toString()); }
    }

    private BumpCompare() {}
}
