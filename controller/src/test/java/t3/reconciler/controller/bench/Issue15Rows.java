package t3.reconciler.controller.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The table of issue 15's Goals, built from one run's figures (pure: {@link Issue15RowsTest}). "of goal" is the after
 * figure over the goal's limit (a ratio goal: the ratio against its same-run baseline over the allowed ratio), so a row
 * meets its goal when it is at most 1.00.
 */
final class Issue15Rows {
    /** The actuator probes of one build; NaN where not measured, calls -1 where the build does not count them. */
    record Actuators(double resolveFirstMs, double resolveWarmMs, double listSmallMs, long listSmallCalls, double listBigMs, long listBigCalls,
            double backupMs) {}

    /** Daemon start (start → first reconcile starts, median ms) and idle RSS (MB), beside {@code java -version} and a trivial JVM's RSS. */
    record Daemon(double toReconcileMs, double rssMb, double javaVersionMs, double idleJvmMb) {}

    /** One build's figures: any part may be null when that part was not run. */
    record Side(ScriptBench.Result script, Actuators act, Daemon daemon) {}

    /** Same-run baselines that do not belong to one build. */
    record Baselines(int smallUnits, int bigUnits, double backupMb, double bareVacuumMs) {}

    record Row(String figure, String goal, String before, String after, double ofGoal) {
        String met() { return Double.isNaN(ofGoal) ? "not measured" : ofGoal <= 1.0 ? "**met**" : "missed"; }
    }

    /** A row another bench measures itself, both sides (e.g. restore-down): listed in {@link Issue15Bench#EXTRAS}. */
    interface Extra {
        String name();

        /** @param beforeJar the older build's shaded jar, or null: measure this build only */
        Row measure(String beforeJar) throws Exception;
    }

    static List<Row> rows(Side before, Side after, Baselines b, List<Row> extras) {
        List<Row> out = new ArrayList<>();
        ScriptBench.Result a = after.script(), z = before == null ? null : before.script();
        if (a != null) {
            int n0 = a.firstSize();
            out.add(new Row("good bump, " + n0 + " users, wall (`run --once`)", "≤ 0.5× the script's", wall(z, n0), wall(a, n0), ratio(a, n0) / 0.5));
            for (int n : a.bumpWall().keySet()) {
                if (n == n0) continue;
                boolean twenty = n >= 20;
                out.add(new Row("good bump, " + n + " users", twenty ? "≤ 20 s (and 0.5× the script's)" : "≤ 0.5× the script's", wall(z, n), wall(a, n),
                        twenty ? a.bumpWall().get(n)[1] / 20 : ratio(a, n) / 0.5));
            }
            out.add(new Row("per-user unavailability, longest gap (50 ms probe; max over users / bare restart, " + n0 + " users)", "≤ 1.2× bare restart",
                    gap(z, false), gap(a, false), a.ctlGapMs() / a.bareGapMs() / 1.2));
            out.add(new Row("the same at a 10 ms probe", "≤ 1.2× bare restart", gap(z, true), gap(a, true), a.ctlGapFineMs() / a.bareGapFineMs() / 1.2));
            out.add(new Row("canary per user, above restart → first answer", "≤ +0.5 s", canary(z), canary(a), a.canaryAbove() / 0.5));
            out.add(new Row("pre-bump backups, " + n0 + " small DBs", "≤ 0.3 s", backups(z), backups(a), a.backups() / 0.3));
            out.add(new Row("bad build caught by the health check: install finished → back on the old version (" + a.max() + " users)", "≤ 3 s",
                    badBuild(z), badBuild(a), a.badBuildBack() / 3));
            out.add(new Row("canary failure on user " + a.max() + " of " + a.max() + " → all restored", "≤ 30 s (N = 20)", canaryFail(z), canaryFail(a),
                    a.canaryFailRestored() / 30));
            out.add(new Row("converged `run --once`, whole process, " + n0 + " users", "≤ 0.5× the script's", converged(z), converged(a),
                    a.converged() / a.scrConverged() / 0.5));
        }
        Actuators aa = after.act(), za = before == null ? null : before.act();
        if (aa != null) {
            out.add(new Row(String.format("backup of %.0f MB under a writer, verified", b.backupMb()), "≤ 1.3× bare `VACUUM INTO`", backup(za, b), backup(aa, b),
                    aa.backupMs() / b.bareVacuumMs() / 1.3));
            out.add(new Row("converged unit list, " + b.smallUnits() + " units", "≤ 20 ms, O(1) D-Bus calls", list(za, true), list(aa, true),
                    calls(aa.listSmallMs() / 20, aa.listSmallCalls())));
            out.add(new Row("converged unit list, " + b.bigUnits() + " units", "≤ 50 ms, O(1) D-Bus calls", list(za, false), list(aa, false),
                    calls(aa.listBigMs() / 50, aa.listBigCalls())));
            out.add(new Row("channel resolution (warm; first call in a fresh JVM)", "≤ 20 ms", resolve(za), resolve(aa), aa.resolveWarmMs() / 20));
        }
        Daemon ad = after.daemon(), zd = before == null ? null : before.daemon();
        if (ad != null) {
            out.add(new Row("daemon start → first reconcile", "≤ 300 ms", start(zd), start(ad), ad.toReconcileMs() / 300));
            out.add(new Row("daemon idle RSS", "≤ 48 MB", rss(zd), rss(ad), ad.rssMb() / 48));
        }
        out.addAll(extras);
        return out;
    }

    /** O(1) calls per list means one: more than one counts against the goal as if that many times over it. */
    static double calls(double ofGoal, long calls) { return calls > 1 ? Math.max(ofGoal, calls) : ofGoal; }

    static Table table(String title, List<Row> rows) {
        Table t = new Table(title, "row", "goal", "before", "after", "after / goal", "met?");
        for (Row r : rows) t.row(r.figure(), r.goal(), r.before(), r.after(), Double.isNaN(r.ofGoal()) ? "-" : String.format("%.2f", r.ofGoal()), r.met());
        return t;
    }

    private static double ratio(ScriptBench.Result r, int n) {
        double[] w = r.bumpWall().get(n);
        return w[1] / w[0];
    }

    static String wall(ScriptBench.Result r, int n) {
        if (r == null || !r.bumpWall().containsKey(n)) return "-";
        double[] w = r.bumpWall().get(n);
        return String.format("%.1f s vs script %.1f s: %.2f×", w[1], w[0], w[1] / w[0]);
    }

    static String gap(ScriptBench.Result r, boolean fine) {
        if (r == null) return "-";
        double c = fine ? r.ctlGapFineMs() : r.ctlGapMs(), s = fine ? r.scrGapFineMs() : r.scrGapMs(), bare = fine ? r.bareGapFineMs() : r.bareGapMs();
        if (Double.isNaN(c)) return "-";
        return String.format("%.0f vs %.0f ms: %.2f× (script %.2f×)", c, bare, c / bare, s / bare);
    }

    static String canary(ScriptBench.Result r) {
        return r == null ? "-" : String.format("%+.2f s (script %+.2f s)", r.canaryAbove(), r.scrCanaryAbove());
    }

    static String backups(ScriptBench.Result r) {
        return r == null ? "-" : String.format("%.2f s (script %.2f s)", r.backups(), r.scrBackups());
    }

    static String badBuild(ScriptBench.Result r) {
        if (r == null || Double.isNaN(r.badBuildWall())) return "-";
        return String.format("%.1f s (whole run %.1f s; script %.1f s)", r.badBuildBack(), r.badBuildWall(), r.scrBadBuildWall());
    }

    static String canaryFail(ScriptBench.Result r) {
        if (r == null || Double.isNaN(r.canaryFailRestored())) return "-";
        return String.format("%.1f s; failing user down %.1f s (script's run %.1f s)", r.canaryFailRestored(), r.canaryFailUserGapMs() / 1000, r.scrCanaryFailWall());
    }

    static String converged(ScriptBench.Result r) {
        return r == null ? "-" : String.format("%.2f s vs script %.2f s: %.2f×", r.converged(), r.scrConverged(), r.converged() / r.scrConverged());
    }

    static String backup(Actuators a, Baselines b) {
        return a == null ? "-" : String.format("%.0f vs %.0f ms: %.2f×", a.backupMs(), b.bareVacuumMs(), a.backupMs() / b.bareVacuumMs());
    }

    static String list(Actuators a, boolean small) {
        if (a == null) return "-";
        long calls = small ? a.listSmallCalls() : a.listBigCalls();
        double ms = small ? a.listSmallMs() : a.listBigMs();
        return calls < 0 ? String.format("%.1f ms (D-Bus calls not counted: that build has no counter)", ms) : String.format("%.1f ms, %d D-Bus call(s)", ms, calls);
    }

    static String resolve(Actuators a) {
        return a == null ? "-" : String.format("%.1f ms (first %.0f ms)", a.resolveWarmMs(), a.resolveFirstMs());
    }

    static String ms(double v) { return Table.ms(v) + " ms"; }

    static String start(Daemon d) {
        return d == null ? "-" : String.format("%s ms (`java -version` %s ms)", Table.ms(d.toReconcileMs()), Table.ms(d.javaVersionMs()));
    }

    static String rss(Daemon d) {
        return d == null ? "-" : String.format("%.0f MB (a trivial JVM %.0f MB)", d.rssMb(), d.idleJvmMb());
    }

    /** Values of a child's {@code RESULT k=v ...} line. */
    static Map<String, String> parseResult(String output) {
        String line = output.lines().filter(l -> l.startsWith("RESULT ")).reduce((x, y) -> y)
                .orElseThrow(() -> new IllegalStateException("no RESULT line in:\n" + output));
        Map<String, String> m = new java.util.LinkedHashMap<>();
        for (String kv : line.substring(7).strip().split("\\s+")) {
            int i = kv.indexOf('=');
            if (i < 1) throw new IllegalStateException("bad RESULT field '" + kv + "' in: " + line);
            m.put(kv.substring(0, i), kv.substring(i + 1));
        }
        return m;
    }

    private Issue15Rows() {}
}
