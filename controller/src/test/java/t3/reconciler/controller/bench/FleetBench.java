package t3.reconciler.controller.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import t3.reconciler.controller.actuator.fleet.Fleet;
import t3.reconciler.controller.actuator.fleet.Keys;
import t3.reconciler.controller.actuator.fleet.Txn;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.testbed.EtcdCluster;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.Version;
import t3.reconciler.model.fleet.FleetFacts;

/**
 * Issue 16's simulated fleet: N hosts in this JVM, each its own daemon loop on in-memory actuators and its own real
 * fleet port (lease, watch) against a real 3-member etcd on loopback ({@link SimHost}). Measures, per fleet size:
 * etcd requests per host per minute while idle; then, after a new nightly is published to every host at once, the
 * time until every host promoted it (per host: p50, max), the most hosts ever holding a slot at once (from etcd's own
 * history, exact: must be at most maxConcurrentHosts), and what the rollout cost etcd (requests, writes, watch events
 * per write, CPU). {@code ./bench fleet [--hosts 50,100,200] [--max 5] [--canaries 2] [--soak-ms 2000] [--idle-seconds 60]}.
 */
final class FleetBench {
    static final Version A = Version.parse("0.0.25-nightly.20260601.1");
    static final Version B = Version.parse("0.0.25-nightly.20260608.2");
    /** A hang guard only: a fleet that has not converged by then is reported as stuck, with where each host stands. */
    static final Duration GUARD = Duration.ofMinutes(15);

    private FleetBench() {}

    record Result(int hosts, double idleRequestsPerHostMinute, double idleCpuPercent, double rolloutSeconds, double canaryMax, double hostP50, double hostMax,
                  int peakHolders, double holdP50, double holdMax, int refused, double requests, double writes, double watchEvents, double etcdCpuSeconds, Map<String, Integer> writesByKind,
                  long heapMb, int threads, double loadAtPublish, double loadAtEnd, double simCpuSeconds, double firstMemberShare) {}

    static void run() throws Exception {
        List<Integer> sizes = Bench.intsOpt("hosts", "50");
        int max = Bench.intOpt("max", 5), canaries = Bench.intOpt("canaries", 2), idle = Bench.intOpt("idle-seconds", 60);
        Duration soak = Duration.ofMillis(Bench.intOpt("soak-ms", 2000));
        Path dir = Bench.work().resolve("fleet");
        Sh.ok("rm", "-rf", dir.toString());
        List<Result> results = new ArrayList<>();
        try (EtcdCluster etcd = EtcdCluster.start(dir.resolve("etcd"), 3)) {
            for (int n : sizes) results.add(one(etcd, dir.resolve("n" + n), n, max, canaries, soak, idle));
        }
        Table t = new Table("Simulated fleet: " + max + " concurrent hosts, " + canaries + " canary hosts, soak " + soak.toMillis() + " ms, 3 etcd members on loopback",
                "hosts", "idle req/host/min", "idle etcd CPU", "publish → every host promoted (× the first size)", "× the waves' floor", "canaries promoted", "per host p50 / max", "peak slot holders", "slot held p50 / max", "lock refused (Full)",
                "rollout: etcd requests (per host)", "writes (per host)", "watch events sent (per write)", "etcd CPU s (first member's share of requests)", "simulator CPU s", "JVM heap / threads", "load (1 min) at publish / end");
        for (Result r : results) {
            // The floor: canaries, the soak, then one median slot hold per round of max hosts; above it is the handoff's cost.
            double floor = r.canaryMax() + soak.toMillis() / 1000.0 + Math.ceil((r.hosts() - canaries) / (double) max) * r.holdP50();
            t.row(r.hosts(), String.format("%.1f", r.idleRequestsPerHostMinute()), String.format("%.1f %%", r.idleCpuPercent()),
                    String.format("%.1f s (%s)", r.rolloutSeconds(), Table.x(r.rolloutSeconds() / results.get(0).rolloutSeconds())),
                    Table.x(r.rolloutSeconds() / floor), String.format("%.1f s", r.canaryMax()), String.format("%.1f / %.1f s", r.hostP50(), r.hostMax()),
                    r.peakHolders() + " (max " + max + ")", String.format("%.2f / %.2f s", r.holdP50(), r.holdMax()), r.refused(),
                    String.format("%.0f (%.0f)", r.requests(), r.requests() / r.hosts()), String.format("%.0f (%.1f)", r.writes(), r.writes() / r.hosts()),
                    String.format("%.0f (%.1f)", r.watchEvents(), r.watchEvents() / Math.max(1, r.writes())), String.format("%.1f (%.0f %%)", r.etcdCpuSeconds(), 100 * r.firstMemberShare()), String.format("%.1f", r.simCpuSeconds()),
                    r.heapMb() + " MB / " + r.threads(), String.format("%.1f / %.1f", r.loadAtPublish(), r.loadAtEnd()));
        }
        t.note("Times from the moment the new nightly is published to every host's fake registry (and each host triggered, as its resync would) to the "
                + "end of the pass in which the host has it promoted. Per host: from publish to that host's promotion. Slot held: from a host's "
                + "take to its release, from its fleet-slot log lines; lock refused: takes that found every slot held (each a wasted read). Peak slot holders: replayed from "
                + "etcd's history of slots/ over the rollout. Writes by kind: " + results.stream().map(r -> r.hosts() + " hosts " + r.writesByKind()).toList()
                + ". Requests: grpc_server_handled_total summed over the members; watch events: etcd_debugging_mvcc_events_total; CPU: process_cpu_seconds_total of the 3 members.");
        t.print();
    }

    static Result one(EtcdCluster etcd, Path dir, int n, int max, int canaryCount, Duration soak, int idleSeconds) throws Exception {
        String group = "bench-" + n;
        List<String> canaries = new ArrayList<>();
        for (int i = 0; i < canaryCount; i++) canaries.add(id(i));
        List<SimHost> hosts = new ArrayList<>();
        Log quiet = new Log(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()), Log.Format.JSON, Clock.systemUTC());
        var spec = new DesiredState.Fleet(etcd.endpoints(), Optional.empty(), group, Optional.of("bench-observer"), max, canaries, soak, Duration.ofSeconds(30));
        try (Fleet observer = new Fleet(spec, "bench-observer", Clock.systemUTC(), quiet)) {
            try {
                for (int i = 0; i < n; i++) hosts.add(new SimHost(dir.resolve(id(i)), id(i), etcd.endpoints(), group, max, canaries, soak, A));
                for (SimHost h : hosts) {
                    if (!h.firstPass.await(GUARD.toSeconds(), TimeUnit.SECONDS)) throw new IllegalStateException(h.id + " never finished its first pass");
                }
                // Idle: every host converged on A, its lease renewed every TTL/3, its watch open, nothing changing.
                EtcdMetrics i0 = EtcdMetrics.scrape(etcd.endpoints());
                Thread.sleep(idleSeconds * 1000L); // a measurement window, not a wait for something to happen
                EtcdMetrics idle = EtcdMetrics.scrape(etcd.endpoints()).minus(i0);

                long fromRevision = observer.facts().revision();
                if (!observer.facts().slotHolders().isEmpty()) throw new IllegalStateException("slots held before the rollout: " + observer.facts().slotHolders());
                CountDownLatch everyHost = new CountDownLatch(n);
                for (SimHost h : hosts) h.await(B, everyHost);
                EtcdMetrics r0 = EtcdMetrics.scrape(etcd.endpoints());
                double load0 = Bench.loadavg()[0];
                var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
                long cpu0 = os.getProcessCpuTime();
                Instant published = Instant.now();
                for (SimHost h : hosts) h.publish(B);
                if (!everyHost.await(GUARD.toSeconds(), TimeUnit.SECONDS)) {
                    StringBuilder b = new StringBuilder("the fleet did not converge on " + B + " within " + GUARD + ":\n");
                    for (SimHost h : hosts) if (h.reachedAt == null) b.append("  ").append(h.where()).append('\n');
                    throw new IllegalStateException(b.toString());
                }
                Instant last = hosts.stream().map(h -> h.reachedAt).max(Instant::compareTo).orElseThrow();
                EtcdMetrics rollout = EtcdMetrics.scrape(etcd.endpoints()).minus(r0);
                double simCpu = (os.getProcessCpuTime() - cpu0) / 1e9;

                FleetFacts after = observer.facts();
                Map<String, Instant> promoted = after.promotions().getOrDefault(B.toString(), Map.of());
                if (promoted.size() != n) throw new IllegalStateException("promotions of " + B + " recorded by " + promoted.size() + " of " + n + " hosts");
                List<Double> perHost = new ArrayList<>();
                double canaryMax = 0;
                for (var e : promoted.entrySet()) {
                    double s = Duration.between(published, e.getValue()).toMillis() / 1000.0;
                    perHost.add(s);
                    if (canaries.contains(e.getKey())) canaryMax = Math.max(canaryMax, s);
                }
                Stats st = Stats.of(perHost);

                // etcd's own history of the group over the rollout, up to a marker put now: every slot take and release in order.
                Keys keys = new Keys(group);
                String marker = keys.root() + "~bench-end";
                observer.etcd.txn(new Txn(List.of(), List.of(new Txn.Put(marker, new byte[0], 0)), List.of()));
                var changes = EtcdHistory.until(etcd.endpoint(0), keys.root(), fromRevision + 1, marker);
                int peak = EtcdHistory.peak(changes.stream().filter(c -> c.key().startsWith(keys.slots())).toList(), java.util.Set.of());
                Map<String, Integer> byKind = new java.util.TreeMap<>();
                for (var c : changes) byKind.merge(kind(keys, c.key()) + (c.put() ? " put" : " delete"), 1, Integer::sum);

                List<Double> holds = new ArrayList<>();
                int refused = 0;
                for (SimHost h : hosts) {
                    var sl = h.slotLog();
                    refused += sl.refused();
                    sl.held().ifPresent(d -> holds.add(d.toMillis() / 1000.0));
                }
                Stats hold = Stats.of(holds);

                System.gc();
                long heap = (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) >> 20;
                int threads = ManagementFactory.getThreadMXBean().getThreadCount();
                Result r = new Result(n, idle.requests() / n / (idleSeconds / 60.0), 100 * idle.cpuSeconds() / idleSeconds,
                        Duration.between(published, last).toMillis() / 1000.0, canaryMax, st.median(), st.max(), peak,
                        hold.median(), hold.max(), refused, rollout.requests(), rollout.writes(), rollout.watchEvents(), rollout.cpuSeconds(), byKind, heap, threads, load0, Bench.loadavg()[0], simCpu, rollout.firstMember() / Math.max(1, rollout.requests()));
                System.out.println("fleet bench: " + n + " hosts done: " + r);
                return r;
            } finally {
                for (SimHost h : hosts) h.close();
            }
        }
    }

    private static String kind(Keys k, String key) {
        if (key.startsWith(k.slots())) return "slots";
        if (key.startsWith(k.statuses())) return "status";
        if (key.startsWith(k.promotions())) return "promotions";
        if (key.startsWith(k.verdicts())) return "verdicts";
        return key.substring(k.root().length());
    }

    static String id(int i) { return String.format("host-%03d", i); }

}
