package t3.reconciler.controller.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import t3.reconciler.controller.actuator.systemd.DbusUnits;
import t3.reconciler.controller.testbed.RegistryBed;

/**
 * {@code ./bench issue15 [--before JAR]}: every row of issue 15's Goals for this build and (with {@code --before}) an
 * older one, from one run, each against its baseline measured in the same run, as one table (also written to
 * {@code controller/target/bench/issue15.md}). Parts, in this order:
 * <ol>
 * <li>script: {@link ScriptBench} for this build, then for the before jar, each on its own twin beds with its own
 *     script baseline, ABBA inside (its 50 ms probe, and a 10 ms probe at the first size and on the bare restarts);
 * <li>actuators: {@link ActuatorProbe} in a JVM per build on the same parts: a loopback registry, a systemd bed with
 *     small and big unit counts, a populated database under a writer beside bare {@code VACUUM INTO} (order rotated);
 * <li>daemon: {@link DaemonBench#measure} for each build on a bed of its own (start → first reconcile, idle RSS).
 * </ol>
 * The older jar runs as it was installed: without the start-up aids it never had (nothing lies beside it).
 */
final class Issue15Bench {
    /** Rows other benches measure themselves (see {@link Issue15Rows.Extra}). */
    static final List<Issue15Rows.Extra> EXTRAS = List.of(RestoreDownBench.ROW);

    /** The parts {@code --parts} may name: these three, then each of {@link #EXTRAS} by its name. */
    static final List<String> PARTS = java.util.stream.Stream.concat(java.util.stream.Stream.of("script", "actuators", "daemon"),
            EXTRAS.stream().map(Issue15Rows.Extra::name)).toList();

    private final boolean quick = Bench.opts.containsKey("quick");
    private final String before = Bench.opts.containsKey("before") ? jar(Bench.opts.get("before")) : null;
    private final String after = Bench.root().resolve("controller/target/t3-reconciler.jar").toString();
    private final List<Integer> sizes = Bench.intsOpt("users", quick ? "3,10" : "3,10,20");
    private final int rounds = Bench.intOpt("rounds", 1);
    private final List<Integer> units = Bench.intsOpt("units", quick ? "3,100" : "3,1000");
    private final int backupMb = Bench.intOpt("size-mb", quick ? 100 : 500);
    private final int reps = Bench.intOpt("reps", quick ? 1 : 3);
    private final int starts = Bench.intOpt("starts", quick ? 3 : 5);
    private final List<String> parts = List.of(Bench.opts.getOrDefault("parts", String.join(",", PARTS)).split(","));
    private final String id = UUID.randomUUID().toString().substring(0, 6);
    private final Map<String, Double> took = new LinkedHashMap<>();

    static void run() throws Exception { new Issue15Bench().go(); }

    static String jar(String p) {
        Path j = Path.of(p).toAbsolutePath();
        if (!Files.isRegularFile(j)) Bench.usage("--before " + j + ": no such file");
        return j.toString();
    }

    private void go() throws Exception {
        for (String p : parts) if (!PARTS.contains(p)) Bench.usage("--parts: unknown part " + p + " (" + String.join(",", PARTS) + ")");
        long t0 = System.nanoTime();
        double[] load0 = Bench.loadavg();
        String commit = commit();
        ScriptBench.Result sa = null, sb = null;
        if (parts.contains("script")) {
            sa = timed("script, this build", () -> ScriptBench.measure(new ScriptBench.Config(sizes, rounds, null, true)));
            if (before != null) sb = timed("script, before jar", () -> ScriptBench.measure(new ScriptBench.Config(sizes, rounds, before, true)));
        }
        Issue15Rows.Actuators[] act = {null, null};
        double[] bare = {Double.NaN};
        if (parts.contains("actuators")) {
            act[0] = new Issue15Rows.Actuators(Double.NaN, Double.NaN, Double.NaN, -1, Double.NaN, -1, Double.NaN);
            if (before != null) act[1] = act[0];
            timed("actuators: channel resolution", () -> { resolve(act); return null; });
            timed("actuators: unit list", () -> { list(act); return null; });
            timed("actuators: backup", () -> { bare[0] = backup(act); return null; });
        }
        Issue15Rows.Daemon[] dm = {null, null};
        if (parts.contains("daemon")) timed("daemon", () -> { daemon(dm); return null; });
        List<Issue15Rows.Row> extra = new ArrayList<>();
        for (Issue15Rows.Extra e : EXTRAS) if (parts.contains(e.name())) extra.add(timed(e.name(), () -> e.measure(before)));

        double[] load1 = Bench.loadavg();
        double wall = (System.nanoTime() - t0) / 1e9;
        Issue15Rows.Side a = new Issue15Rows.Side(sa, act[0], dm[0]);
        Issue15Rows.Side b = before == null ? null : new Issue15Rows.Side(sb, act[1], dm[1]);
        List<Issue15Rows.Row> rows = Issue15Rows.rows(b, a, new Issue15Rows.Baselines(units.get(0), units.get(units.size() - 1), backupMb, bare[0]), extra);
        Table t = Issue15Rows.table("Issue 15, every row: before (" + (before == null ? "not run" : Path.of(before).getFileName()) + ") and after (this build, " + commit + ")", rows);
        StringBuilder note = new StringBuilder();
        note.append(String.format("One `./bench issue15` run, %s, on %s. Load average (1 min) %.2f at start, %.2f at end, on %d cores. Wall time of the bench %.1f min: ",
                Instant.now(), machine(), load0[0], load1[0], Runtime.getRuntime().availableProcessors(), wall / 60));
        took.forEach((k, v) -> note.append(String.format("%s %.1f min; ", k, v / 60)));
        note.append(String.format("options: users %s, rounds %d, units %s, backup %d MB × %d, daemon starts %d per build.", sizes, rounds, units, backupMb, reps, starts));
        t.note(note.toString());
        t.note("\"after / goal\": the after figure over the goal's limit (for a ratio goal, its ratio against the same-run baseline over the allowed ratio): "
                + "at most 1.00 meets the goal. Script rows: each build against the script run on its own twin bed in the same run (ABBA); the gaps are the "
                + "controller's longest, max over users and the first size's good bumps, over the median of bare `systemctl restart`s of the same units (at 10 ms: of user 1, just before each fine-probed run). "
                + "Backup: median of " + reps + ", order rotated with bare `VACUUM INTO` of the same database under the same writer. Unit list and channel "
                + "resolution: the same code in a JVM per build (`ActuatorProbe`), timed inside it.");
        t.print();
        Path md = Bench.work().resolve("issue15.md");
        Files.writeString(md, t.markdown());
        System.out.println("\nwritten to " + md);
    }

    interface Part<T> {
        T run() throws Exception;
    }

    private <T> T timed(String name, Part<T> p) throws Exception {
        System.out.println("== issue15: " + name + " ...");
        long t0 = System.nanoTime();
        try {
            return p.run();
        } finally {
            took.put(name, (System.nanoTime() - t0) / 1e9);
        }
    }

    /** [0] this build, [1] the before jar; each side's call in its own JVM, order alternating. */
    private List<String> sides() { return before == null ? List.of(after) : List.of(after, before); }

    private Map<String, String> child(String jar, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("java", "-cp", Bench.root().resolve("controller/target/test-classes") + ":" + jar, ActuatorProbe.class.getName()));
        cmd.addAll(List.of(args));
        Sh.Result r = Sh.run(cmd);
        if (r.exit() != 0) throw new IllegalStateException(String.join(" ", cmd) + " exited " + r.exit() + ":\n" + r.out());
        return Issue15Rows.parseResult(r.out());
    }

    private void resolve(Issue15Rows.Actuators[] act) throws Exception {
        RegistryBed.candidateAccount();
        try (RegistryBed reg = RegistryBed.start(Bench.work().resolve("i15-registry-" + id))) {
            reg.publish(ActuatorProbe.V.toString(), RegistryBed.Flavor.GOOD, RegistryBed.DEFAULT_SCHEMA, "nightly");
            List<String> js = sides();
            for (int i = 0; i < js.size(); i++) {
                Map<String, String> r = child(js.get(i), "resolve", reg.url().toString(), "10");
                act[i] = with(act[i], "resolve", Double.parseDouble(r.get("first")), Double.parseDouble(r.get("warm")), 0);
            }
        }
    }

    /** Units of a template that runs {@code sleep} on a bed of its own: the list's cost is systemd's and ours, not the servers'. */
    private void list(Issue15Rows.Actuators[] act) throws Exception {
        Path dir = Bench.work().resolve("i15-units-" + id);
        Files.createDirectories(dir.resolve("units"));
        Files.writeString(dir.resolve("units/t3-serve@.service"), "[Service]\nExecStart=/bin/sleep infinity\n");
        String bed = Bench.root().resolve("testbed/systemd-bed.sh").toString();
        Sh.ok(bed, "up", dir.toString());
        String bus = "unix:path=" + dir.resolve("bus");
        String pattern = "t3-serve@t3rpn*.service";
        try (DbusUnits u = new DbusUnits(bus)) {
            int started = 0;
            for (int k = 0; k < units.size(); k++) {
                for (; started < units.get(k); started++) u.start("t3-serve@t3rpn" + started + ".service", java.time.Duration.ofSeconds(60));
                List<String> js = sides();
                for (int i = 0; i < js.size(); i++) {
                    Map<String, String> r = child(js.get(i), "list", bus, pattern, "10");
                    if (Integer.parseInt(r.get("units")) != started) throw new IllegalStateException(r + ": not " + started + " units");
                    act[i] = with(act[i], k == 0 ? "small" : "big", Double.parseDouble(r.get("ms")), 0, Long.parseLong(r.get("calls")));
                }
            }
        } finally {
            Sh.run(List.of(bed, "down", dir.toString()));
        }
    }

    /** @return bare VACUUM INTO's median ms, the same run */
    private double backup(Issue15Rows.Actuators[] act) throws Exception {
        Bench.opts.putIfAbsent("size-mb", String.valueOf(backupMb));
        Path db = Dbs.populated();
        String user = BackupBench.owner(db);
        Path warm = db.resolveSibling("warm.sqlite");
        Files.deleteIfExists(warm);
        Sh.ok("sqlite3", warm.toString(), "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1);");
        Sh.ok("chown", user + ":", warm.toString());
        Path out = Bench.work().resolve("i15-backup-" + id);
        Files.createDirectories(out);
        List<String> js = sides();
        List<List<Double>> ms = new ArrayList<>();
        for (int i = 0; i <= js.size(); i++) ms.add(new ArrayList<>());
        try (Populated.Writer w = new Populated.Writer(db, 10)) {
            for (int r = 0; r < reps; r++) {
                // Rotate who goes first: a page cache warmed by one is there for the next.
                for (int k = 0; k <= js.size(); k++) {
                    int i = (k + r) % (js.size() + 1);
                    if (i == js.size()) {
                        Path f = out.resolve("bare.sqlite");
                        long t0 = System.nanoTime();
                        BackupBench.vacuumInto(db, f);
                        ms.get(i).add((System.nanoTime() - t0) / 1e6);
                        Files.delete(f);
                    } else {
                        ms.get(i).add(Double.parseDouble(child(js.get(i), "backup", user, db.toString(), out.resolve("root-" + i).toString(), warm.toString()).get("ms")));
                    }
                }
            }
        } finally {
            Sh.run(List.of("rm", "-rf", out.toString()));
        }
        for (int i = 0; i < js.size(); i++) act[i] = with(act[i], "backup", Stats.of(ms.get(i)).median(), 0, 0);
        return Stats.of(ms.get(js.size())).median();
    }

    private static Issue15Rows.Actuators with(Issue15Rows.Actuators a, String what, double x, double y, long calls) {
        return switch (what) {
            case "resolve" -> new Issue15Rows.Actuators(x, y, a.listSmallMs(), a.listSmallCalls(), a.listBigMs(), a.listBigCalls(), a.backupMs());
            case "small" -> new Issue15Rows.Actuators(a.resolveFirstMs(), a.resolveWarmMs(), x, calls, a.listBigMs(), a.listBigCalls(), a.backupMs());
            case "big" -> new Issue15Rows.Actuators(a.resolveFirstMs(), a.resolveWarmMs(), a.listSmallMs(), a.listSmallCalls(), x, calls, a.backupMs());
            case "backup" -> new Issue15Rows.Actuators(a.resolveFirstMs(), a.resolveWarmMs(), a.listSmallMs(), a.listSmallCalls(), a.listBigMs(), a.listBigCalls(), x);
            default -> throw new IllegalArgumentException(what);
        };
    }

    /**
     * Each build on a bed of its own (an older build refuses a state database a newer one migrated), one after the
     * other: this build with its aids fresh, the before jar with none (it never had them).
     */
    private void daemon(Issue15Rows.Daemon[] dm) throws Exception {
        String launcher = DaemonBench.launcherDefaults();
        List<DaemonBench.Set> sets = new ArrayList<>(List.of(new DaemonBench.Set("this build + its aids", launcher, true)));
        if (before != null) sets.add(new DaemonBench.Set("before jar", launcher, true, Map.of("T3R_JAR", before)));
        for (int i = 0; i < sets.size(); i++) {
            DaemonBench.Set set = sets.get(i);
            Path dir = Bench.work().resolve("i15-daemon-" + id + "-" + i);
            String out = Sh.bed(dir, DaemonBench.concat("up", dir.toString(), DaemonBench.USERS));
            Path spec = Path.of(out.strip().lines().reduce((x, y) -> y).orElseThrow());
            try {
                // The first pass on a new bed adopts what runs and takes the daily backups: not what is timed.
                try (DaemonProc d = DaemonProc.start(spec, null, false, set.env())) {
                    d.await(0, DaemonProc.ev("reconciled"), 300, "the warm-up pass");
                }
                if (i == 0) System.out.println("start-up aids -> " + DaemonBench.dumpArchive(spec, launcher));
                DaemonBench.Row r = DaemonBench.measure(set, spec, starts, 0);
                dm[i] = new Issue15Rows.Daemon(r.toReconcile().median(), r.rssKb() / 1024.0, r.javaVersion().median(), r.idleJvmKb() / 1024.0);
            } finally {
                Sh.bed(dir, "down", dir.toString());
            }
        }
    }

    static String commit() {
        try {
            String c = Sh.ok("git", "-C", Bench.root().toString(), "rev-parse", "--short", "HEAD").strip();
            boolean dirty = !Sh.ok("git", "-C", Bench.root().toString(), "status", "--porcelain", "--untracked-files=no").isBlank();
            return c + (dirty ? " + uncommitted changes" : "");
        } catch (Exception e) {
            return "unknown commit";
        }
    }

    static String machine() throws Exception {
        String mem = Files.readAllLines(Path.of("/proc/meminfo")).get(0).replaceAll("\\s+", " ");
        String cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name")).findFirst().map(l -> l.replaceAll(".*: ", "")).orElse("?");
        return Runtime.getRuntime().availableProcessors() + " cores (" + cpu + "), " + mem + ", java " + System.getProperty("java.version");
    }

    private Issue15Bench() {}
}
