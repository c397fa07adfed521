package t3.reconciler.controller.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import t3.reconciler.controller.testbed.RegistryBed;

/**
 * Benchmarks, not tests (nothing here runs in {@code mvn verify}): {@code ./bench SUBCOMMAND [--flags]}. Each
 * subcommand prints markdown tables, every figure with a ratio against a baseline measured in the same run, and
 * appends them to {@code controller/target/bench/results.md}. See docs/performance.md.
 */
public final class Bench {
    static final String USAGE = """
            usage: ./bench SUBCOMMAND [options]
              daemon   start-to-first-reconcile, SIGHUP and edit -> reconcile-start latency, idle RSS, per JVM flag set
              noop     converged reconcile cost (ms, D-Bus calls) with 3, 100, 1000 user units on a real user manager
              backup   VACUUM INTO (SqliteBackups) vs sqlite3 .backup vs cp, on a populated DB while a writer writes
              seed     health-check seed copy (SeedCopy) vs cp vs a streamed copy
              bump     end-to-end bump wall time for 3 and 20 users by step, and MTTR of broken builds
              script   issue 15: the production script (../shared/baseline/t3-autoupdate.sh) vs the controller on twin beds, ABBA:
                       good bumps of --users (3,10; the first size --rounds times, 2; failures at the largest), converged pass, a bad build caught by the
                       health check, a canary failure on user N of N; per-user unavailability (50 ms probe) vs a bare restart
              fleet    issue 16: N in-process hosts (fake actuators, real fleet port each) on a real 3-member etcd: idle etcd
                       requests per host per minute, publish -> every host promoted, peak slot holders, etcd cost
              bump-compare  good bumps by this build and by --baseline-jar JAR, interleaved on twin beds (ratio)
              issue15  every row of issue 15's Goals, this build (and --before JAR), one table, each row against its own
                       same-run baseline: script (3,10,20 users), actuator probes, daemon start/RSS (~13 min with --before)
              all      every one of the above
            options:
              --samples N     samples per latency (daemon: 20)     --starts N   daemon starts per flag set (10)
              --size-mb N     DB size for backup/seed (100)        --full       500 MB DB and 20 starts
              --units A,B,C   noop unit counts (3,100,1000)        --users A,B  bump user counts (3,20)
              --passes N      noop passes per count (10)           --no-canary-mttr  skip the canary-failure MTTR
              --flags "A;B"   daemon: extra JVM flag sets to compare   (daemon writes the AppCDS archive <jar>.jsa)
              --baseline-jar J  bump-compare: the other build's shaded jar   --rounds N  bump-compare rounds (5)
              --jar J         bump, script: run the controller side from this shaded jar (e.g. an older build)
              --script PATH   script: the baseline script (../shared/baseline/t3-autoupdate.sh)
              --hosts A,B     fleet: fleet sizes (50)  --max N  maxConcurrentHosts (5)  --canaries N (2)  --soak-ms N (2000)
              --idle-seconds N  fleet: idle window (60)
              --before J      issue15: the older build's shaded jar   --quick  issue15: users 3,10, units 3,100, 100 MB backup × 1, 3 starts
              --parts A,B     issue15: script,actuators,daemon,restore-down (all)  (issue15 also takes --users, --rounds (1), --units, --size-mb, --reps, --starts)
              --reps N        backup/seed repetitions (3/5)        --backup-timeout S  cut-off for sqlite3 .backup (60)
            """;

    static Map<String, String> opts = new TreeMap<>();

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            System.out.print(USAGE);
            System.exit(args.length == 0 ? 2 : 0);
        }
        List<String> rest = new ArrayList<>(Arrays.asList(args).subList(1, args.length));
        for (int i = 0; i < rest.size(); i++) {
            String a = rest.get(i);
            if (!a.startsWith("--")) usage("unexpected argument " + a);
            String k = a.substring(2);
            if (k.equals("full") || k.equals("no-canary-mttr") || k.equals("quick")) opts.put(k, "true");
            else if (i + 1 < rest.size()) opts.put(k, rest.get(++i));
            else usage("--" + k + " needs a value");
        }
        List<String> cmds = args[0].equals("all") ? List.of("seed", "backup", "noop", "daemon", "bump") : List.of(args[0]);
        // Beds use fixed OS user names: one bed-backed bench at a time on the machine (seed, backup and fleet bring none up).
        if (cmds.stream().anyMatch(c -> !List.of("seed", "backup", "fleet").contains(c))) BenchLock.hold(String.join(",", cmds));
        header(String.join(",", cmds));
        for (String c : cmds) {
            double[] load0 = loadavg();
            switch (c) {
                case "daemon" -> DaemonBench.run();
                case "noop" -> NoopBench.run();
                case "backup" -> BackupBench.run();
                case "seed" -> SeedBench.run();
                case "bump" -> BumpBench.run();
                case "bump-compare" -> BumpCompare.run();
                case "script" -> ScriptBench.run();
                case "fleet" -> FleetBench.run();
                case "restore-down" -> RestoreDownBench.run();
                case "issue15" -> Issue15Bench.run();
                default -> usage("unknown subcommand " + c);
            }
            double[] load1 = loadavg();
            String l = String.format("load average (1 min) during `%s`: %.2f at start, %.2f at end, on %d cores (the machine is shared)",
                    c, load0[0], load1[0], Runtime.getRuntime().availableProcessors());
            System.out.println("\n" + l);
            Files.writeString(resultsFile(), "\n_" + l + "._\n", java.nio.file.StandardOpenOption.APPEND, java.nio.file.StandardOpenOption.CREATE);
        }
    }

    static void usage(String why) {
        System.err.println("bench: " + why + "\n" + USAGE);
        System.exit(2);
    }

    static int intOpt(String k, int dflt) { return Integer.parseInt(opts.getOrDefault(k, String.valueOf(dflt))); }

    static boolean full() { return opts.containsKey("full"); }

    static List<Integer> intsOpt(String k, String dflt) {
        return Arrays.stream(opts.getOrDefault(k, dflt).split(",")).map(String::strip).map(Integer::parseInt).toList();
    }

    static Path root() {
        String p = System.getProperty("t3r.root");
        if (p != null) return Path.of(p);
        return RegistryBed.repoRoot();
    }

    static Path work() { return root().resolve("controller/target/bench"); }

    static Path resultsFile() { return work().resolve("results.md"); }

    static double[] loadavg() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2])};
        } catch (Exception e) {
            return new double[] {Double.NaN, Double.NaN, Double.NaN};
        }
    }

    private static void header(String what) throws Exception {
        String mem = Files.readAllLines(Path.of("/proc/meminfo")).get(0).replaceAll("\\s+", " ");
        String cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name")).findFirst().map(l -> l.replaceAll(".*: ", "")).orElse("?");
        String h = "\n### ./bench " + what + " — " + Instant.now() + "\n\nMachine: " + Runtime.getRuntime().availableProcessors() + " cores (" + cpu + "), " + mem
                + ", java " + System.getProperty("java.version") + ", load average " + Arrays.toString(loadavg()) + "\n";
        System.out.println(h);
        Files.createDirectories(work());
        Files.writeString(resultsFile(), h, java.nio.file.StandardOpenOption.APPEND, java.nio.file.StandardOpenOption.CREATE);
    }
}
