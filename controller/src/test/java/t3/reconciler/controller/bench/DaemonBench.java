package t3.reconciler.controller.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Issue 4 / 6: the daemon ({@code bin/t3-reconciler run}) on the real bed, per JVM flag set: start to first
 * reconcile, SIGHUP and desired-state edit (temp + rename) to reconcile start, idle RSS. Baselines, same flags,
 * same run: {@code java -version}, a trivial JVM's RSS, spawning {@code kill -0}, and a bare inotify WatchService.
 */
final class DaemonBench {
    static final String[] USERS = {"t3bd-a", "t3bd-b"};
    /** The launcher's flags before this bench tuned them (commit a1d7ccf). */
    static final String BEFORE = "-Xms16m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k";

    /**
     * @param cds whether the launcher may use its AppCDS archive ({@code <jar>.jsa})
     * @param env added to the launcher's environment ({@code T3R_JAR} for the baseline build)
     */
    record Set(String name, String opts, boolean cds, Map<String, String> env) {
        Set(String name, String opts, boolean cds) { this(name, opts, cds, Map.of()); }
    }

    record Row(Set set, Stats javaVersion, long idleJvmKb, Stats toStarted, Stats toReconcile, Stats toConverged, long rssKb, long rssAfterKb, Stats hup, Stats edit) {}

    static void run() throws Exception {
        int starts = Bench.intOpt("starts", Bench.full() ? 20 : 10);
        int samples = Bench.intOpt("samples", 20);
        String launcher = launcherDefaults();
        List<Set> sets = new ArrayList<>();
        sets.add(new Set("JVM defaults", "-Xshare:auto", false));
        if (!launcher.equals(BEFORE)) sets.add(new Set("launcher flags before", BEFORE, false));
        sets.add(new Set("launcher flags, no AppCDS (before)", launcher, false));
        for (String extra : Bench.opts.getOrDefault("flags", "").split(";")) if (!extra.isBlank()) sets.add(new Set("candidate", extra.strip(), false));
        // Another build as it was installed: its jar and whatever aids lie beside it (its own <jar>.jsa).
        if (Bench.opts.containsKey("baseline-jar")) {
            Path j = Path.of(Bench.opts.get("baseline-jar")).toAbsolutePath();
            if (!Files.isRegularFile(j)) Bench.usage("--baseline-jar " + j + ": no such file");
            sets.add(new Set("baseline build " + j.getFileName() + " + its archive", launcher, true, Map.of("T3R_JAR", j.toString())));
        }
        sets.add(new Set("**launcher flags + AppCDS (now)**", launcher, true));

        Path dir = Bench.work().resolve("daemon-" + UUID.randomUUID().toString().substring(0, 6));
        System.out.println("bed up at " + dir + " (" + String.join(", ", USERS) + ") ...");
        String out = Sh.bed(dir, concat("up", dir.toString(), USERS));
        Path spec = Path.of(out.strip().lines().reduce((a, b) -> b).orElseThrow());
        try {
            // The first pass on a new bed adopts what runs and takes the daily backups: not what we time.
            try (DaemonProc d = DaemonProc.start(spec, null, false)) {
                d.await(0, DaemonProc.ev("reconciled"), 300, "the warm-up pass");
            }
            System.out.println("AppCDS training run -> " + dumpArchive(spec, launcher));
            Stats kill0 = kill0(samples);
            Stats watch = watchService(dir.resolve("watch"), samples);
            List<Row> rows = new ArrayList<>();
            for (Set s : sets) {
                System.out.println("flag set " + s.name() + ": " + s.opts());
                rows.add(measure(s, spec, starts, samples));
            }
            Row base = rows.get(0);
            Table t = new Table(String.format("Daemon start and footprint per JVM flag set (%d starts each; bed with %d users, converged)", starts, USERS.length),
                    "flags", "`java -version` ms (baseline)", "start → `started` logged, median ms", "start → first reconcile starts, median / p90 ms", "vs `java -version`",
                    "start → first pass done, median ms", "trivial JVM RSS MB (baseline)", "daemon idle RSS MB", "vs trivial JVM", "RSS MB after 2×" + samples + " more passes");
            for (Row r : rows) {
                t.row(r.set().name() + ": `" + r.set().opts() + "`", Table.ms(r.javaVersion().median()), Table.ms(r.toStarted().median()),
                        Table.ms(r.toReconcile().median()) + " / " + Table.ms(r.toReconcile().p90()), Table.x(r.toReconcile().median() / r.javaVersion().median()),
                        Table.ms(r.toConverged().median()), mb(r.idleJvmKb()), mb(r.rssKb()), Table.x((double) r.rssKb() / r.idleJvmKb()),
                        r.rssAfterKb() == 0 ? "-" : mb(r.rssAfterKb()));
            }
            t.note("The trivial-JVM baseline runs without the archive (it is for the jar's classes). ");
            t.note(String.format("Relative to JVM defaults: start %s, idle RSS %s (last row).", Table.x(rows.get(rows.size() - 1).toReconcile().median() / base.toReconcile().median()),
                    Table.x((double) rows.get(rows.size() - 1).rssKb() / base.rssKb())));
            t.note("A pass on this bed includes `npm view` against the loopback registry (a node process, ~0.5-1 s under load): most of \"first pass done\".");
            t.print();
            Table l = new Table(String.format("Trigger → reconcile-start latency (%d samples each)", samples),
                    "flags", "SIGHUP median / p90 ms", "baseline: spawn `kill -0` median ms", "edit (temp+rename) median / p90 ms", "baseline: bare WatchService median ms");
            for (Row r : rows) {
                if (r.hup() == null) continue;
                l.row(r.set().name(), Table.ms(r.hup().median()) + " / " + Table.ms(r.hup().p90()), Table.ms(kill0.median()),
                        Table.ms(r.edit().median()) + " / " + Table.ms(r.edit().p90()), Table.ms(watch.median()));
            }
            l.note("SIGHUP is timed from before `kill -HUP` is spawned (so the `kill -0` spawn is the floor); the edit from before the temp file is written, "
                    + "to the `reconcile` log line as the bench reads it.");
            l.print();
        } finally {
            Sh.bed(dir, "down", dir.toString());
        }
    }

    static Row measure(Set s, Path spec, int starts, int samples) throws Exception {
        List<Double> jv = new ArrayList<>();
        for (int i = 0; i < Math.max(5, starts / 2); i++) jv.add(Sh.timed(concat("java", split(s.opts()), "-version")));
        long idleJvm = idleJvmKb(s.opts());
        List<Double> toStarted = new ArrayList<>(), toRec = new ArrayList<>(), toDone = new ArrayList<>();
        long rss = 0, rssAfter = 0;
        Stats hup = null, edit = null;
        for (int i = 0; i < starts; i++) {
            try (DaemonProc d = DaemonProc.start(spec, s.opts(), s.cds(), s.env())) {
                int st = d.await(0, DaemonProc.ev("started"), 120, "the started line");
                int r = d.await(st, DaemonProc.ev("reconcile"), 120, "the first reconcile");
                toStarted.add((d.line(st).nanos() - d.startNanos) / 1e6);
                int done = d.await(r, DaemonProc.ev("reconciled"), 300, "the first pass's end");
                toRec.add((d.line(r).nanos() - d.startNanos) / 1e6);
                toDone.add((d.line(done).nanos() - d.startNanos) / 1e6);
                if (i < starts - 1) continue;
                Thread.sleep(3000); // let the JVM settle before reading its idle footprint (a measurement pause, nothing waits on it)
                rss = d.rssKb();
                if (!s.name().equals("JVM defaults")) { // trigger latency does not depend on heap flags: measured for the launcher's sets
                    hup = latency(d, samples, "SIGHUP", () -> d.signal("HUP"));
                    boolean[] flip = {false};
                    edit = latency(d, samples, "desired-state edited", () -> {
                        flip[0] = !flip[0];
                        editorWrite(spec, flip[0]);
                    });
                    editorWrite(spec, false);
                    Thread.sleep(3000);
                    rssAfter = d.rssKb();
                }
            }
        }
        return new Row(s, Stats.of(jv), idleJvm, Stats.of(toStarted), Stats.of(toRec), Stats.of(toDone), rss, rssAfter, hup, edit);
    }

    interface Action {
        void run() throws Exception;
    }

    /** {@code samples} times: trigger, time to the matching {@code reconcile} line, wait for the pass's end and a quiet moment. */
    static Stats latency(DaemonProc d, int samples, String trigger, Action fire) throws Exception {
        Predicate<JsonNode> start = DaemonProc.ev("reconcile").and(n -> n.path("trigger").asText().contains(trigger));
        List<Double> ms = new ArrayList<>();
        for (int i = 0; i < samples; i++) {
            int mark = d.mark();
            long t0 = System.nanoTime();
            fire.run();
            int r = d.await(mark, start, 120, trigger + " pass");
            ms.add((d.line(r).nanos() - t0) / 1e6);
            int done = d.await(r, DaemonProc.ev("reconciled"), 300, trigger + " pass end");
            // A second event of the same edit may queue one more pass: let it start and finish before the next sample.
            Thread.sleep(300);
            for (int j = done + 1; j < d.mark(); j++) {
                if (DaemonProc.ev("reconcile").test(d.line(j).json())) d.await(j, DaemonProc.ev("reconciled"), 300, "an extra pass");
            }
        }
        return Stats.of(ms);
    }

    /**
     * The launcher's start-up aids beside the built jar, as packaging/install.sh writes them
     * (packaging/startup-aids.sh: SQLite's native library and the AppCDS archive of CdsTraining).
     */
    static Path dumpArchive(Path spec, String opts) throws Exception {
        Path jar = Bench.root().resolve("controller/target/t3-reconciler.jar");
        Path jsa = Path.of(jar + ".jsa");
        Sh.run(List.of(Bench.root().resolve("packaging/startup-aids.sh").toString(), jar.toString()));
        if (!Files.exists(jsa)) throw new IllegalStateException("no CDS archive written at " + jsa);
        return jsa;
    }

    /** Like an editor: write a temp file beside the spec, then rename it over the spec. */
    static void editorWrite(Path spec, boolean alt) throws Exception {
        String s = Files.readString(spec).replaceAll("resync: \\d+m", alt ? "resync: 9m" : "resync: 10m");
        Path tmp = spec.resolveSibling("." + spec.getFileName() + ".swp");
        Files.writeString(tmp, s);
        Files.move(tmp, spec, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static Stats kill0(int samples) throws Exception {
        List<Double> ms = new ArrayList<>();
        String self = String.valueOf(ProcessHandle.current().pid());
        for (int i = 0; i < samples; i++) ms.add(Sh.timed("kill", "-0", self));
        return Stats.of(ms);
    }

    static Stats watchService(Path dir, int samples) throws Exception {
        Files.createDirectories(dir);
        Path f = dir.resolve("spec.yaml"), tmp = dir.resolve(".spec.yaml.swp");
        Files.writeString(f, "x");
        List<Double> ms = new ArrayList<>();
        try (WatchService ws = FileSystems.getDefault().newWatchService()) {
            dir.register(ws, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE);
            for (int i = 0; i < samples; i++) {
                long t0 = System.nanoTime();
                Files.writeString(tmp, "y" + i);
                Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                boolean seen = false;
                while (!seen) {
                    var key = ws.take();
                    for (var ev : key.pollEvents()) seen |= f.getFileName().equals(ev.context());
                    key.reset();
                }
                ms.add((System.nanoTime() - t0) / 1e6);
            }
        }
        return Stats.of(ms);
    }

    /** RSS of a JVM with the same flags that loads nothing but one class and waits. */
    static long idleJvmKb(String opts) throws Exception {
        Process p = new ProcessBuilder(concat("java", split(opts), "-cp", Bench.root().resolve("controller/target/test-classes").toString(),
                Idle.class.getName())).redirectErrorStream(true).start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
            for (String l; !"ready".equals(l = r.readLine()); ) {
                if (l == null) throw new IllegalStateException("the idle JVM did not start");
            }
            Thread.sleep(1000);
            for (String l : Files.readAllLines(Path.of("/proc/" + p.pid() + "/status"))) {
                if (l.startsWith("VmRSS:")) return Long.parseLong(l.replaceAll("\\D", ""));
            }
            throw new IllegalStateException("no VmRSS");
        } finally {
            p.getOutputStream().close();
            p.waitFor();
        }
    }

    static String launcherDefaults() throws Exception {
        Matcher m = Pattern.compile("\\$\\{T3R_JAVA_OPTS:-([^}]*)}").matcher(Files.readString(Bench.root().resolve("bin/t3-reconciler")));
        if (!m.find()) throw new IllegalStateException("bin/t3-reconciler: no ${T3R_JAVA_OPTS:-...} default");
        return m.group(1).strip();
    }

    static String mb(long kb) { return String.format("%.0f", kb / 1024.0); }

    static String[] split(String opts) { return opts.isBlank() ? new String[0] : opts.strip().split("\\s+"); }

    static String[] concat(String first, String[] mid, String... rest) {
        List<String> l = new ArrayList<>();
        l.add(first);
        l.addAll(List.of(mid));
        l.addAll(List.of(rest));
        return l.toArray(String[]::new);
    }

    static String[] concat(String a, String b, String... rest) { return concat(a, new String[] {b}, rest); }

    private DaemonBench() {}
}
