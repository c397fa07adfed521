package t3.reconciler.controller.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;

/**
 * Issue 15: the controller against the production script it replaces, on twin beds (same stand-in builds, same users
 * count, each side its own bed), runs interleaved ABBA so load on the shared machine hits both alike: good bumps of
 * 3 (×rounds), 10 and 20 users with per-phase times, a converged pass, a bad build caught by the health check, a
 * canary failure on user N of N; during every run, each user's longest gap without an answer to {@code GET /}
 * (50 ms probe, and with {@code fineProbe} also 10 ms at the first size), against a bare {@code systemctl restart}
 * of the same units probed the same way. {@link #measure} returns the figures of issue 15's rows ({@link Result}).
 */
final class ScriptBench {
    /** Gaps are null where that probe did not run. */
    record Pair(String what, int users, BumpBench.Run ctl, ScriptBed.Run scr, Map<String, Double> ctlGaps, Map<String, Double> scrGaps,
            Map<String, Double> ctlFine, Map<String, Double> scrFine) {}

    /**
     * @param jar the controller's shaded jar, null for this build (with its start-up aids)
     * @param fineProbe also probe every 10 ms during the first size's bumps and the bare restarts
     */
    record Config(List<Integer> sizes, int rounds, String jar, boolean fineProbe) {
        static Config fromOpts() {
            return new Config(Bench.intsOpt("users", "3,10"), Bench.intOpt("rounds", 2), Bench.opts.containsKey("jar") ? ScriptBench.jar() : null, false);
        }
    }

    /**
     * Issue 15's rows from one run, each with its script baseline from the same run. Seconds unless named ms; NaN where
     * not measured. Gaps: the controller's (and script's) longest gap, max over users and the first size's good bumps;
     * bare: median over the bare restarts (at 10 ms: over those made just before each run, where there are any).
     */
    record Result(String controller, int firstSize, int max, Map<Integer, double[]> bumpWall,
            double bareGapMs, double ctlGapMs, double scrGapMs, double bareGapFineMs, double ctlGapFineMs, double scrGapFineMs,
            double bareFirstAnswer, double canaryAbove, double scrCanaryAbove, double backups, double scrBackups,
            double badBuildBack, double badBuildWall, double scrBadBuildWall,
            double canaryFailRestored, double canaryFailUserGapMs, double scrCanaryFailWall, double converged, double scrConverged) {}

    private final Config cfg;
    private final List<Integer> sizes;
    private final int rounds;
    private final int max;
    private final Map<String, String> ctlEnv;
    private final List<Pair> bumps = new ArrayList<>();
    private final List<Pair> failures = new ArrayList<>();
    private final List<double[]> converged = new ArrayList<>();
    private final List<Double> bareFirstAnswer = new ArrayList<>();
    private final List<Double> bareGap = new ArrayList<>();
    private final List<Double> bareGapFine = new ArrayList<>();
    /** With fineProbe: the same bare restarts once more after the first size's bumps (the units on the newest build). */
    private final List<Double> bareGapFineAfter = new ArrayList<>();
    /** With fineProbe: a bare restart of user 1 on the bed of each fine-probed run, just before it (10 ms probe). */
    private final List<Double> bareBeside = new ArrayList<>();
    /** Per fine-probed run and side: where the longest gap lay, for a person reading why it was long. */
    private final Map<String, String> gapWhere = new LinkedHashMap<>();
    /** Per failure case and bed: {answering when the run is over, answering after one more restart, users}. */
    private final Map<String, int[]> after = new LinkedHashMap<>();
    private int turn;
    private int build = 2;
    private List<String> ctlUsers;
    private Path ctlDir;
    private Path spec;
    private Path stateDb;
    private ScriptBed scr;

    static void run() throws Exception { measure(Config.fromOpts()); }

    /** One whole run (beds up, every case, beds down), its tables printed; returns the issue's rows. */
    static Result measure(Config cfg) throws Exception {
        ScriptBench b = new ScriptBench(cfg);
        b.go();
        return b.summary();
    }

    private ScriptBench(Config cfg) {
        this.cfg = cfg;
        this.sizes = cfg.sizes();
        this.rounds = cfg.rounds();
        this.max = sizes.stream().mapToInt(Integer::intValue).max().orElseThrow();
        this.ctlEnv = cfg.jar() == null ? Map.of() : Map.of("T3R_JAR", cfg.jar());
    }

    static String jar() {
        Path j = Path.of(Bench.opts.get("jar")).toAbsolutePath();
        if (!Files.isRegularFile(j)) Bench.usage("--jar " + j + ": no such file");
        return j.toString();
    }

    private void go() throws Exception {
        // This build as packaging/install.sh leaves it: with its start-up aids (--jar J: whatever lies beside J).
        if (cfg.jar() == null) System.out.println("start-up aids -> " + DaemonBench.dumpArchive(null, null));
        String id = UUID.randomUUID().toString().substring(0, 6);
        ctlUsers = users("t3rb-c", max);
        ctlDir = Bench.work().resolve("sb-ctl-" + id);
        System.out.println("beds up (" + max + " users each) ...");
        spec = Path.of(Sh.bed(ctlDir, DaemonBench.concat("up", new String[] {ctlDir.toString()}, ctlUsers.toArray(String[]::new))).strip().lines()
                .reduce((a, b) -> b).orElseThrow());
        String original = Files.readString(spec);
        stateDb = ctlDir.resolve("state/state.db");
        try {
            scr = ScriptBed.up(Bench.work().resolve("sb-scr-" + id), users("t3rb-s", max));
            int running = max;
            for (int n : sizes) {
                // Only the users in play run, on both beds: the script restarts every running t3-serve@ unit.
                for (int i = n; i < running; i++) stopBoth(i);
                for (int i = running; i < n; i++) startBoth(i);
                running = n;
                Files.writeString(spec, original.replaceFirst("(?m)^users: \\[.*]$", "users: [" + String.join(", ", ctlUsers.subList(0, n)) + "]"));
                scr.manage(n);
                BumpBench.once(spec, stateDb, "warm-up, " + n + " users (adopt, daily backups)", n, ctlEnv);
                if (n == sizes.get(0)) bareRestarts(Math.min(n, 3), false);
                for (int r = 0; r < (n == sizes.get(0) ? rounds : 1); r++) {
                    String v = "0.0.26-nightly.20260702." + build++;
                    publish(v, "good");
                    bumps.add(pair("good bump to " + v, n, true));
                }
                if (n == sizes.get(0) && cfg.fineProbe()) bareRestarts(Math.min(n, 3), true);
                if (n == sizes.get(0)) convergedPasses(n);
            }
            String bad = "0.0.27-nightly.20260703." + build++;
            publish(bad, "migration-fails-populated");
            failures.add(pair("bad build caught by the health check (" + bad + ")", max, false));
            if (!Bench.opts.containsKey("no-canary-mttr")) {
                BumpBench.unfreeze(spec, ctlEnv);
                Sh.bed(ctlDir, "archive-thread", ctlDir.toString(), ctlUsers.get(max - 1));
                Sh.bed(scr.dir, "archive-thread", scr.dir.toString(), scr.users.get(max - 1));
                String bad2 = "0.0.28-nightly.20260704." + build++;
                publish(bad2, "migration-fails-archived");
                failures.add(pair("canary failure on user " + max + " of " + max + " (" + bad2 + ")", max, false));
            }
        } finally {
            Files.writeString(spec, original);
            Sh.bed(ctlDir, "down", ctlDir.toString());
            if (scr != null) scr.close();
        }
        report();
    }

    static List<String> users(String prefix, int n) {
        List<String> u = new ArrayList<>();
        for (int i = 1; i <= n; i++) u.add(String.format("%s%02d", prefix, i));
        return u;
    }

    private void publish(String v, String flavor) throws Exception {
        Sh.bed(ctlDir, "publish", ctlDir.toString(), v, flavor, "nightly");
        Sh.bed(scr.dir, "publish", scr.dir.toString(), v, flavor, "nightly");
    }

    /** One run by each side, in the order that alternates from call to call (ABBA across the whole bench). */
    private Pair pair(String what, int n, boolean mustSucceed) throws Exception {
        BumpBench.Run c = null;
        ScriptBed.Run s = null;
        Map<String, Double> cg = null, sg = null, cf = null, sf = null;
        boolean fine = cfg.fineProbe() && n == sizes.get(0);
        boolean ctlFirst = turn++ % 2 == 0;
        for (int side = 0; side < 2; side++) {
            if (fine) {
                // The baseline beside each run, not minutes away: the restart's own time moves with the machine's load.
                Path bed = (side == 0) == ctlFirst ? ctlDir : scr.dir;
                bareBeside.add(bareRestart(bed, (bed == ctlDir ? ctlUsers : scr.users).get(0))[1]);
            }
            if ((side == 0) == ctlFirst) {
                Map<String, Integer> ports = ports(ctlDir, ctlUsers.subList(0, n));
                Probe p = new Probe(ports);
                Probe f = fine ? new Probe(ports, Probe.FINE_PERIOD_NANOS) : null;
                try (p; f) {
                    c = BumpBench.once(spec, stateDb, what + " (controller)", n, ctlEnv);
                }
                cg = p.longestGaps();
                cf = fine ? f.longestGaps() : null;
                if (fine) gapWhere.put(what + "|controller", whereCtl(f, cf, c));
                if (mustSucceed && c.exit() != 0) throw new IllegalStateException("controller: " + what + " exited " + c.exit());
            } else {
                Map<String, Integer> ports = ports(scr.dir, scr.users.subList(0, n));
                Probe p = new Probe(ports);
                Probe f = fine ? new Probe(ports, Probe.FINE_PERIOD_NANOS) : null;
                try (p; f) {
                    s = scr.run(what, n);
                }
                sg = p.longestGaps();
                sf = fine ? f.longestGaps() : null;
                if (fine) gapWhere.put(what + "|script", whereScr(f, sf, s));
                if (mustSucceed && s.exit() != 0) throw new IllegalStateException("script: " + what + " exited " + s.exit() + ", see " + scr.dir.resolve("script-runs.log"));
            }
        }
        System.out.printf("%s, %d users: controller %.1f s, script %.1f s%n", what, n, c.wall().toMillis() / 1000.0, s.wallSec());
        if (!mustSucceed) {
            // The after-state is part of a failure's result: who answers now, and after their next restart.
            afterState(what, ctlDir, ctlUsers.subList(0, n));
            afterState(what, scr.dir, scr.users.subList(0, n));
        }
        return new Pair(what, n, c, s, cg, sg, cf, sf);
    }

    /** The longest 10 ms gap's user, its start from the run's start, and the controller's next event after it. */
    private static String whereCtl(Probe f, Map<String, Double> gaps, BumpBench.Run c) {
        String u = worst(gaps);
        java.time.Instant[] w = f.longestGapWindow(u);
        String next = c.events().stream().filter(e -> !e.at().isBefore(w[1].minusMillis(1))).findFirst()
                .map(e -> e.action() + " " + e.target()).orElse("the end of the run");
        return String.format("%s: %.0f ms from +%.2f s, then `%s`", u, gaps.get(u), Duration.between(c.t0(), w[0]).toMillis() / 1000.0, next);
    }

    /** The same for the script: the first line it printed after the gap. */
    private static String whereScr(Probe f, Map<String, Double> gaps, ScriptBed.Run s) {
        String u = worst(gaps);
        java.time.Instant[] w = f.longestGapWindow(u);
        String next = s.lines().stream().filter(l -> !f.wall(l.nanos()).isBefore(w[1].minusMillis(1))).findFirst()
                .map(l -> l.text().length() > 60 ? l.text().substring(0, 60) + "…" : l.text()).orElse("the end of the run");
        return String.format("%s: %.0f ms from +%.2f s, then `%s`", u, gaps.get(u), Duration.between(f.wall(s.t0()), w[0]).toMillis() / 1000.0, next);
    }

    private static String worst(Map<String, Double> gaps) {
        return gaps.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    }

    /** {answering now, answering after one more restart} of the users, once a failure case is over. */
    private void afterState(String what, Path bed, List<String> us) throws Exception {
        int now = 0, again = 0;
        for (String u : us) if (Probe.answers(ScriptBed.port(bed, u))) now++;
        for (String u : us) {
            try {
                ScriptBed.systemctl(bed, "restart", ScriptBed.unit(u));
            } catch (java.io.IOException e) {
                continue;
            }
            if (firstAnswer(ScriptBed.port(bed, u), 15_000) >= 0) again++;
        }
        after.put(what + "|" + bed, new int[] {now, again, us.size()});
    }

    /** ms until the server first answers, polled every 5 ms; -1 after {@code limitMs}. */
    static double firstAnswer(int port, long limitMs) {
        long t0 = System.nanoTime();
        while (System.nanoTime() - t0 < limitMs * 1_000_000) {
            if (Probe.answers(port)) return (System.nanoTime() - t0) / 1e6;
            LockSupport.parkNanos(5_000_000);
        }
        return -1;
    }

    /** The floor for the unavailability row: a bare restart of each user's unit (both beds, twice), probed like a bump. */
    private void bareRestarts(int n, boolean afterBumps) throws Exception {
        System.out.println("bare restarts ...");
        for (int rep = 0; rep < 2; rep++) {
            for (int i = 0; i < n; i++) {
                for (Path bed : List.of(ctlDir, scr.dir)) {
                    double[] r = bareRestart(bed, (bed == ctlDir ? ctlUsers : scr.users).get(i));
                    if (!afterBumps) {
                        bareFirstAnswer.add(r[2]);
                        bareGap.add(r[0]);
                    }
                    if (cfg.fineProbe()) (afterBumps ? bareGapFineAfter : bareGapFine).add(r[1]);
                }
            }
        }
    }

    /** One bare restart of U's unit: {longest gap at 50 ms, at 10 ms (NaN without fineProbe), restart → first answer}, ms. */
    private double[] bareRestart(Path bed, String u) throws Exception {
        int port = ScriptBed.port(bed, u);
        Probe p = new Probe(Map.of(u, port));
        Probe f = cfg.fineProbe() ? new Probe(Map.of(u, port), Probe.FINE_PERIOD_NANOS) : null;
        double first;
        try (p; f) {
            p.awaitAnswerAfter(u, System.nanoTime(), 30_000);
            if (f != null) f.awaitAnswerAfter(u, System.nanoTime(), 30_000);
            long t0 = System.nanoTime();
            ScriptBed.systemctl(bed, "restart", ScriptBed.unit(u));
            if (firstAnswer(port, 30_000) < 0) throw new IllegalStateException(u + " did not answer after a bare restart");
            first = (System.nanoTime() - t0) / 1e6;
            // The probe's own first answer after the restart ends the gap it measures.
            long after = System.nanoTime();
            p.awaitAnswerAfter(u, after, 30_000);
            if (f != null) f.awaitAnswerAfter(u, after, 30_000);
        }
        return new double[] {p.longestGaps().get(u), f == null ? Double.NaN : f.longestGaps().get(u), first};
    }

    private void convergedPasses(int n) throws Exception {
        for (int i = 0; i < 3; i++) {
            double c = 0, s = 0;
            boolean ctlFirst = turn++ % 2 == 0;
            for (int side = 0; side < 2; side++) {
                if ((side == 0) == ctlFirst) {
                    BumpBench.Run r = BumpBench.once(spec, stateDb, "converged pass (controller)", n, ctlEnv);
                    if (r.exit() != 0) throw new IllegalStateException("controller: converged pass exited " + r.exit());
                    c = r.wall().toMillis() / 1000.0;
                } else {
                    ScriptBed.Run r = scr.run("converged pass", n);
                    if (r.exit() != 0 || Double.isNaN(r.at("nothing to do", false))) throw new IllegalStateException("script: converged pass did not converge");
                    s = r.wallSec();
                }
            }
            converged.add(new double[] {s, c});
        }
    }

    private void startBoth(int i) throws Exception {
        for (Path bed : List.of(ctlDir, scr.dir)) {
            String u = (bed == ctlDir ? ctlUsers : scr.users).get(i);
            ScriptBed.systemctl(bed, "start", ScriptBed.unit(u));
            if (firstAnswer(ScriptBed.port(bed, u), 30_000) < 0) throw new IllegalStateException(u + " did not come up");
        }
    }

    private void stopBoth(int i) throws Exception {
        ScriptBed.systemctl(ctlDir, "stop", ScriptBed.unit(ctlUsers.get(i)));
        ScriptBed.systemctl(scr.dir, "stop", ScriptBed.unit(scr.users.get(i)));
    }

    static Map<String, Integer> ports(Path bed, List<String> us) throws Exception {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (String u : us) m.put(u, ScriptBed.port(bed, u));
        return m;
    }

    // ---- report -------------------------------------------------------------------------------------------------

    private void report() throws Exception {
        Table w = new Table("Good bump wall, the script vs the controller (twin beds, ABBA order; seconds, process start to exit)",
                "users", "run", "script", "controller (" + (ctlEnv.isEmpty() ? "this build" : ctlEnv.get("T3R_JAR")) + ")", "controller / script");
        Map<Integer, List<double[]>> byN = new LinkedHashMap<>();
        for (Pair p : bumps) {
            double s = p.scr().wallSec(), c = p.ctl().wall().toMillis() / 1000.0;
            byN.computeIfAbsent(p.users(), k -> new ArrayList<>()).add(new double[] {s, c});
            w.row(p.users(), p.what(), f1(s), f1(c), Table.x(c / s));
        }
        for (var e : byN.entrySet()) {
            double ms = BumpCompare.median(e.getValue(), 0), mc = BumpCompare.median(e.getValue(), 1);
            w.row("**" + e.getKey() + "**", "**median**", "**" + f1(ms) + "**", "**" + f1(mc) + "**", "**" + Table.x(mc / ms) + "**");
        }
        w.print();

        List<Pair> first = bumps.stream().filter(p -> p.users() == sizes.get(0)).toList();
        Table ph = new Table("Where a good bump of " + sizes.get(0) + " users goes (medians of " + first.size() + " runs each; seconds)",
                "phase", "script", "controller", "controller − script");
        phase(ph, "start → target resolved", first, p -> p.scr().at("candidate:", false), p -> p.ctl().at("start-rollout", null));
        phase(ph, "pre-bump backups, all users", first, p -> p.scr().at("pre-bump backup:", true) - p.scr().at("candidate:", false), p -> step(p.ctl(), "backup"));
        phase(ph, "install + health check", first, p -> p.scr().at("health OK", false) - p.scr().at("pre-bump backup:", true),
                p -> step(p.ctl(), "install") + step(p.ctl(), "health-check"));
        phase(ph, "link switch", first, p -> 0.0, p -> step(p.ctl(), "activate"));
        phase(ph, "canary, per user (median)", first, p -> Stats.of(p.scr().intervals("health gate passed", "restarted t3-serve@")).median(),
                p -> Stats.of(canaries(p.ctl())).median());
        double bareFirst = Stats.of(bareFirstAnswer).median() / 1000;
        phase(ph, "canary per user − bare restart → first answer", first,
                p -> Stats.of(p.scr().intervals("health gate passed", "restarted t3-serve@")).median() - bareFirst,
                p -> Stats.of(canaries(p.ctl())).median() - bareFirst);
        phase(ph, "promote and exit", first, p -> p.scr().wallSec() - p.scr().at("restarted t3-serve@", true),
                p -> p.ctl().wall().toMillis() / 1000.0 - lastAt(p.ctl(), "canary"));
        ph.note("Script phases are read from its own log lines as they arrive (`candidate:`, the last `pre-bump backup:`, `health OK`, each "
                + "`restarted t3-serve@…`); it logs nothing between install and health check, so the two are one phase. Controller phases come "
                + "from its event log (each event's time since the previous one). Bare restart → first answer of the same units: "
                + f2(Stats.of(bareFirstAnswer).median() / 1000) + " s (median of " + bareFirstAnswer.size() + ").");
        ph.print();

        Table un = new Table("Per-user unavailability during a good bump: longest gap without an answer to `GET /` (50 ms probe; ms)",
                "run", "users", "script: median / max over users", "controller: median / max over users", "controller / bare restart (max)");
        double bare = Stats.of(bareGap).median();
        List<Double> allS = new ArrayList<>(), allC = new ArrayList<>();
        for (Pair p : bumps) {
            Stats s = Stats.of(new ArrayList<>(p.scrGaps().values())), c = Stats.of(new ArrayList<>(p.ctlGaps().values()));
            allS.addAll(p.scrGaps().values());
            allC.addAll(p.ctlGaps().values());
            un.row(p.what(), p.users(), Table.ms(s.median()) + " / " + Table.ms(s.max()), Table.ms(c.median()) + " / " + Table.ms(c.max()), Table.x(c.max() / bare));
        }
        Stats as = Stats.of(allS), ac = Stats.of(allC);
        un.row("**all good bumps**", "", "**" + Table.ms(as.median()) + " / " + Table.ms(as.max()) + "**", "**" + Table.ms(ac.median()) + " / " + Table.ms(ac.max()) + "**",
                "**" + Table.x(ac.median() / bare) + " (median)**");
        un.note(String.format("Baseline, same run: a bare `systemctl restart` of the same units (%d restarts, both beds), probed the same way: longest gap median "
                + "%s ms (max %s); restart command → first answer (5 ms poll) median %s ms. Script / bare (median of users): %s.", bareGap.size(),
                Table.ms(bare), Table.ms(Stats.of(bareGap).max()), Table.ms(Stats.of(bareFirstAnswer).median()), Table.x(as.median() / bare)));
        un.print();

        if (!bareGapFine.isEmpty()) {
            Table fn = new Table("The same gaps at a 10 ms probe (first size's good bumps and the bare restarts; ms)",
                    "run", "users", "script: median / max over users", "controller: median / max over users", "controller / bare restart (max)",
                    "script's longest: where", "controller's longest: where");
            double bareF = Stats.of(bareGapFine).median();
            for (Pair p : bumps) {
                if (p.ctlFine() == null) continue;
                Stats s = Stats.of(new ArrayList<>(p.scrFine().values())), c = Stats.of(new ArrayList<>(p.ctlFine().values()));
                fn.row(p.what(), p.users(), Table.ms(s.median()) + " / " + Table.ms(s.max()), Table.ms(c.median()) + " / " + Table.ms(c.max()), Table.x(c.max() / bareF),
                        gapWhere.get(p.what() + "|script"), gapWhere.get(p.what() + "|controller"));
            }
            fn.note(String.format("Baseline, same run: the bare restarts above probed every 10 ms as well: longest gap median %s ms (max %s, %d restarts). "
                    + "The same bare restarts again after these bumps (units on the newest build): median %s ms (max %s, %d restarts). "
                    + "A bare restart of user 1 just before each of these runs (both sides, in run order): %s ms.",
                    Table.ms(bareF), Table.ms(Stats.of(bareGapFine).max()), bareGapFine.size(),
                    Table.ms(Stats.of(bareGapFineAfter).median()), Table.ms(Stats.of(bareGapFineAfter).max()), bareGapFineAfter.size(),
                    String.join(", ", bareBeside.stream().map(Table::ms).toList())));
            fn.print();
        }

        if (!converged.isEmpty()) {
            Table cv = new Table("Converged `run --once` / script run with nothing to do, " + sizes.get(0) + " users (whole process; seconds)",
                    "run", "script", "controller", "controller / script");
            for (int i = 0; i < converged.size(); i++) cv.row(i + 1, f2(converged.get(i)[0]), f2(converged.get(i)[1]), Table.x(converged.get(i)[1] / converged.get(i)[0]));
            double s = BumpCompare.median(converged, 0), c = BumpCompare.median(converged, 1);
            cv.row("**median**", "**" + f2(s) + "**", "**" + f2(c) + "**", "**" + Table.x(c / s) + "**");
            cv.print();
        }

        Table mt = new Table("Broken builds, " + max + " users: from the start of the run (seconds)",
                "case", "side", "failure detected (by)", "binary back", "rollback finished / exit", "install finished → back on the old version",
                "failing user's longest gap", "longest gap, other users", "answering after / after one more restart", "vs the script's wall");
        for (Pair p : failures) {
            boolean canary = p.what().startsWith("canary");
            ScriptBed.Run s = p.scr();
            BumpBench.Run c = p.ctl();
            String last = ctlUsers.get(p.users() - 1), lastS = scr.users.get(p.users() - 1);
            String sGate = Double.isNaN(s.at("pairing broken AFTER restart", false)) ? "health check" : "canary";
            mt.row(p.what(), "script", f1(s.at("HEALTH-CHECK FAILED", false)) + " (" + sGate + ")", f1(s.at("rolled back to", false)), f1(s.wallSec()), "-",
                    canary ? Table.ms(p.scrGaps().get(lastS)) + " ms" : "-", othersMax(p.scrGaps(), lastS), afterCell(p.what(), scr.dir), "1.00×");
            double hc = c.at("health-check", "failed"), cn = c.at("canary", "failed");
            String cGate = Double.isNaN(hc) ? "canary" : "health check";
            double back = c.at("rollback-binary", null);
            double done = c.at("finish-rollback", null);
            mt.row("", "controller", f1(Double.isNaN(hc) ? cn : hc) + " (" + cGate + ")", Double.isNaN(back) ? "link never moved" : f1(back),
                    f1(done) + " / " + f1(c.wall().toMillis() / 1000.0), Double.isNaN(hc) ? "-" : f1(done - c.at("install", null)),
                    canary ? Table.ms(p.ctlGaps().get(last)) + " ms" : "-", othersMax(p.ctlGaps(), last), afterCell(p.what(), ctlDir),
                    Table.x(c.wall().toMillis() / 1000.0 / s.wallSec()));
        }
        mt.note("The script seeds its health check with the pre-bump backup of a user called `wizard`, else with the newest one taken: on the "
                + "bed (no `wizard`; OS users must carry the bench's prefix) that is user N's, the user whose data breaks the build, so the script can "
                + "catch the canary case at its health check; the controller seeds from `healthCheck.seedUser`, else the first user. "
                + "\"answering after\": users whose server answers `GET /` when the run is over, then after one more `systemctl restart` each (a user "
                + "left on a schema newer than the binary on disk answers now but not after a restart). Gaps are the 50 ms probe's.");
        mt.print();
    }

    private String afterCell(String what, Path bed) {
        int[] a = after.get(what + "|" + bed);
        return a == null ? "-" : a[0] + "/" + a[2] + " / " + a[1] + "/" + a[2];
    }

    private static String othersMax(Map<String, Double> gaps, String except) {
        return Table.ms(gaps.entrySet().stream().filter(e -> !e.getKey().equals(except)).mapToDouble(Map.Entry::getValue).max().orElse(Double.NaN)) + " ms";
    }

    private static void phase(Table t, String name, List<Pair> ps, java.util.function.ToDoubleFunction<Pair> s, java.util.function.ToDoubleFunction<Pair> c) {
        double ms = Stats.of(ps.stream().map(p -> s.applyAsDouble(p)).toList()).median();
        double mc = Stats.of(ps.stream().map(p -> c.applyAsDouble(p)).toList()).median();
        t.row(name, f2(ms), f2(mc), String.format("%+.2f", mc - ms));
    }

    /** Seconds the controller spent in one kind of step (events of that action, each since the previous event). */
    static double step(BumpBench.Run r, String action) {
        double[] v = r.byStep().get(action);
        return v == null ? 0 : v[1];
    }

    static List<Double> canaries(BumpBench.Run r) {
        List<Double> out = new ArrayList<>();
        java.time.Instant prev = r.t0();
        for (BumpBench.Event e : r.events()) {
            if (e.action().equals("canary")) out.add(Duration.between(prev, e.at()).toMillis() / 1000.0);
            prev = e.at();
        }
        return out;
    }

    static double lastAt(BumpBench.Run r, String action) {
        double t = Double.NaN;
        for (BumpBench.Event e : r.events()) if (e.action().equals(action)) t = Duration.between(r.t0(), e.at()).toMillis() / 1000.0;
        return t;
    }

    static String f1(double v) { return Double.isNaN(v) ? "-" : String.format("%.1f", v); }

    static String f2(double v) { return Double.isNaN(v) ? "-" : String.format("%.2f", v); }

    /** The issue's rows from this run's pairs. */
    private Result summary() {
        List<Pair> first = bumps.stream().filter(p -> p.users() == sizes.get(0)).toList();
        Map<Integer, double[]> wall = new LinkedHashMap<>();
        for (int n : sizes) {
            List<double[]> xs = bumps.stream().filter(p -> p.users() == n).map(p -> new double[] {p.scr().wallSec(), p.ctl().wall().toMillis() / 1000.0}).toList();
            wall.put(n, new double[] {BumpCompare.median(xs, 0), BumpCompare.median(xs, 1)});
        }
        double bareFirst = Stats.of(bareFirstAnswer).median() / 1000;
        double canary = Stats.of(first.stream().map(p -> Stats.of(canaries(p.ctl())).median()).toList()).median() - bareFirst;
        double scrCanary = Stats.of(first.stream().map(p -> Stats.of(p.scr().intervals("health gate passed", "restarted t3-serve@")).median()).toList()).median() - bareFirst;
        double backups = Stats.of(first.stream().map(p -> step(p.ctl(), "backup")).toList()).median();
        double scrBackups = Stats.of(first.stream().map(p -> p.scr().at("pre-bump backup:", true) - p.scr().at("candidate:", false)).toList()).median();
        double badBack = Double.NaN, badWall = Double.NaN, scrBadWall = Double.NaN, restored = Double.NaN, userGap = Double.NaN, scrCanaryWall = Double.NaN;
        for (Pair p : failures) {
            BumpBench.Run c = p.ctl();
            if (p.what().startsWith("canary")) {
                restored = c.at("finish-rollback", null);
                userGap = p.ctlGaps().get(ctlUsers.get(p.users() - 1));
                scrCanaryWall = p.scr().wallSec();
            } else {
                badBack = c.at("finish-rollback", null) - c.at("install", null);
                badWall = c.wall().toMillis() / 1000.0;
                scrBadWall = p.scr().wallSec();
            }
        }
        return new Result(ctlEnv.isEmpty() ? "this build" : ctlEnv.get("T3R_JAR"), sizes.get(0), max, wall,
                Stats.of(bareGap).median(), maxGap(first, Pair::ctlGaps), maxGap(first, Pair::scrGaps),
                Stats.of(bareBeside.isEmpty() ? bareGapFine : bareBeside).median(), maxGap(first, Pair::ctlFine), maxGap(first, Pair::scrFine),
                bareFirst, canary, scrCanary, backups, scrBackups, badBack, badWall, scrBadWall, restored, userGap, scrCanaryWall,
                converged.isEmpty() ? Double.NaN : BumpCompare.median(converged, 1), converged.isEmpty() ? Double.NaN : BumpCompare.median(converged, 0));
    }

    private static double maxGap(List<Pair> ps, java.util.function.Function<Pair, Map<String, Double>> gaps) {
        return ps.stream().map(gaps).filter(java.util.Objects::nonNull).flatMap(m -> m.values().stream()).mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }
}
