package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import t3.reconciler.controller.actuator.fleet.EtcdException;
import t3.reconciler.controller.actuator.fleet.Fleet;
import t3.reconciler.controller.actuator.fleet.SlotHistory;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.cli.Main;
import t3.reconciler.controller.store.Event;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.controller.testbed.CapturedCli;
import t3.reconciler.controller.testbed.EtcdCluster;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.fleet.FleetFacts;

/**
 * A fleet on one machine: a real 3-member etcd on loopback and three hosts, each a bed of its own ({@code bed.sh}: its
 * own systemd --user manager and D-Bus bus, one user) with its own controller daemon, all installing from the first
 * bed's registry. The hosts share the group and the wave settings and differ only by {@code fleet.hostId}: they share
 * the machine, so /etc/machine-id cannot tell them apart. The users' servers write nothing by themselves, so a
 * database nothing touched stays byte-identical.
 */
final class FleetBeds implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(240);
    /** One OS user per host, each under its own engineer's prefix (t3fa, t3fb, t3fd). */
    static final List<String> IDS = List.of("host-a", "host-b", "host-c");
    static final List<String> USERS = List.of("t3fa-u", "t3fb-u", "t3fd-u");

    final Path dir;
    final String group;
    final Duration soak;
    final int maxConcurrentHosts;
    final EtcdCluster etcd;
    final List<Host> hosts = new ArrayList<>();
    /** The test's own view of the fleet (facts, the watch, the slots' history): no slot, no status of its own. */
    final Fleet operator;

    /** One host: its bed, its user and its controller (replaced when the test kills it and starts another). */
    static final class Host {
        final String id;
        final String user;
        final Bed bed;
        DaemonProcess daemon;

        Host(String id, String user, Bed bed) {
            this.id = id;
            this.user = user;
            this.bed = bed;
        }

        /** Starts the controller and waits for its first pass to end. */
        void start() throws Exception {
            daemon = DaemonProcess.start(bed.spec, Map.of());
            daemon.await(0, DaemonProcess.ev("started"), Duration.ofSeconds(60), id + "'s daemon starts");
            daemon.await(0, DaemonProcess.ev("reconciled"), WAIT, id + "'s first pass ends");
        }

        /** SIGKILL: no clean stop, no lease revoked. Returns when the process is gone. */
        void kill() throws Exception {
            daemon.signal("KILL");
            daemon.process.waitFor();
        }

        int mark() { return daemon.mark(); }

        JsonNode awaitStep(int from, String action, String version, String outcome) throws InterruptedException {
            return daemon.await(from, step(action, version, outcome), WAIT, id + ": step " + action + " " + version + " " + outcome);
        }

        /** The first decision at or after {@code from} to hold at {@code gate} (hold:{@code gate} in the event log). */
        JsonNode awaitHold(int from, String gate) throws InterruptedException {
            return daemon.await(from, hold(gate), WAIT, id + ": a decision holding at " + gate);
        }

        /** Where the installed link points: the version every user runs. */
        String installed() throws Exception {
            Path target = Files.readSymbolicLink(bed.link());
            return target.getParent().getParent().getFileName().toString();
        }

        Optional<String> lastGood() {
            try (StateStore store = StateStore.open(bed.stateDb())) {
                return store.lastGood().map(Object::toString);
            }
        }

        List<Event> events() {
            try (StateStore store = StateStore.open(bed.stateDb())) {
                return store.events(Optional.empty(), 100_000);
            }
        }

        @Override
        public String toString() { return id; }
    }

    static Predicate<JsonNode> step(String action, String version, String outcome) {
        return DaemonProcess.ev("step").and(n -> n.path("action").asText().equals(action)
                && (version == null || n.path("version").asText().equals(version) || n.path("target").asText().contains(version))
                && (outcome == null || n.path("outcome").asText().equals(outcome)));
    }

    /*
     * A take-slot that found every slot taken by another host first, and a release-slot with nothing to release, end
     * "unchanged" (Outcome.label): only "ok" took or freed a slot.
     */

    /** A take-slot step that left this host holding a slot. */
    static Predicate<JsonNode> tookSlot() { return step("take-slot", null, "ok"); }

    static boolean tookSlot(Event e) { return e.action().equals("take-slot") && e.outcome().equals("ok"); }

    /** A release-slot step that freed a slot this host held. */
    static boolean releasedSlot(Event e) { return e.action().equals("release-slot") && e.outcome().equals("ok"); }

    static Predicate<JsonNode> hold(String gate) {
        return DaemonProcess.ev("decision").and(n -> n.path("gate").asText().equals(gate));
    }

    /** Released at each change the operator's watch on the group reports: what {@link #awaitFacts} waits on. */
    private final Semaphore changes = new Semaphore(0);

    private FleetBeds(Path dir, String group, Duration soak, int maxConcurrentHosts, EtcdCluster etcd, Fleet operator) {
        this.dir = dir;
        this.group = group;
        this.soak = soak;
        this.maxConcurrentHosts = maxConcurrentHosts;
        this.etcd = etcd;
        this.operator = operator;
        operator.changes().onChange(changes::release);
    }

    /** The fleet as etcd has it once {@code condition} holds, re-read at each change the watch reports (no polling). */
    FleetFacts awaitFacts(Predicate<FleetFacts> condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            FleetFacts facts = operator.facts();
            if (condition.test(facts)) return facts;
            long left = deadline - System.nanoTime();
            if (left <= 0 || !changes.tryAcquire(left, TimeUnit.NANOSECONDS)) fail("timed out waiting for: " + what + "; the fleet: " + facts);
            changes.drainPermits();
        }
    }

    /**
     * Brings up etcd and the first bed (whose registry every host uses) side by side, then the other two beds side by
     * side, then the three controllers; whatever came up is taken down again if any part fails.
     */
    static FleetBeds up(int maxConcurrentHosts, Duration soak, Duration leaseTtl) throws Exception {
        String id = UUID.randomUUID().toString().substring(0, 8);
        Path dir = Bed.repoRoot().resolve("controller/target/fleet-" + id);
        Map<String, String> quiet = Map.of("T3_BED_WRITE_INTERVAL_MS", "0");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<AutoCloseable> started = new ArrayList<>();
        FleetBeds fleet = null;
        try {
            Future<EtcdCluster> etcdUp = pool.submit(() -> EtcdCluster.start(dir.resolve("etcd"), 3));
            Future<Bed> first = pool.submit(() -> Bed.up(dir.resolve(IDS.get(0)), quiet, USERS.get(0)));
            List<Object> up = collect(List.of(etcdUp, first), started);
            EtcdCluster etcd = (EtcdCluster) up.get(0);
            Bed a = (Bed) up.get(1);
            Map<String, String> shared = Map.of("T3_BED_WRITE_INTERVAL_MS", "0",
                    "T3_BED_REGISTRY", Files.readString(a.dir.resolve("registry/url")).strip());
            List<Future<?>> rest = new ArrayList<>();
            for (int i = 1; i < IDS.size(); i++) {
                int n = i;
                rest.add(pool.submit(() -> Bed.up(dir.resolve(IDS.get(n)), shared, USERS.get(n))));
            }
            List<Bed> beds = new ArrayList<>(List.of(a));
            for (Object b : collect(rest, started)) beds.add((Bed) b);

            String group = "fe2e-" + id;
            var spec = new DesiredState.Fleet(etcd.endpoints(), Optional.empty(), group, Optional.of("operator"), maxConcurrentHosts,
                    List.of(IDS.get(0)), soak, leaseTtl);
            Fleet operator = new Fleet(spec, "operator", Clock.systemUTC(), new Log(new PrintStream(System.out, true), Log.Format.JSON, Clock.systemUTC()));
            fleet = new FleetBeds(dir, group, soak, maxConcurrentHosts, etcd, operator);
            for (int i = 0; i < IDS.size(); i++) {
                Host h = new Host(IDS.get(i), USERS.get(i), beds.get(i));
                Files.writeString(h.bed.spec, fleetSection(etcd, group, h.id, maxConcurrentHosts, soak, leaseTtl), StandardOpenOption.APPEND);
                fleet.hosts.add(h);
            }
            // One at a time: three JVMs starting at once on two cores only slow each other down.
            for (Host h : fleet.hosts) h.start();
            return fleet;
        } catch (Throwable t) {
            if (fleet != null) started = List.of(fleet); // it owns everything started
            for (int i = started.size() - 1; i >= 0; i--) {
                try {
                    started.get(i).close();
                } catch (Exception e) {
                    t.addSuppressed(e);
                }
            }
            throw t;
        } finally {
            pool.shutdown();
        }
    }

    /**
     * Every future's value, each remembered for the teardown before any failure is thrown: a bed that came up beside
     * one that failed must still be taken down.
     */
    private static List<Object> collect(List<? extends Future<?>> futures, List<AutoCloseable> started) throws Exception {
        List<Object> out = new ArrayList<>();
        Exception failure = null;
        for (Future<?> f : futures) {
            try {
                Object v = f.get();
                started.add((AutoCloseable) v);
                out.add(v);
            } catch (java.util.concurrent.ExecutionException e) {
                Exception x = e.getCause() instanceof Exception c ? c : e;
                if (failure == null) failure = x;
                else failure.addSuppressed(x);
            }
        }
        if (failure != null) throw failure;
        return out;
    }

    static String fleetSection(EtcdCluster etcd, String group, String hostId, int max, Duration soak, Duration ttl) {
        return "fleet:\n"
                + "  endpoints: [" + etcd.endpoints().stream().map(Object::toString).collect(Collectors.joining(", ")) + "]\n"
                + "  group: " + group + "\n"
                + "  hostId: " + hostId + "\n"
                + "  maxConcurrentHosts: " + max + "\n"
                + "  canaryHosts: [" + IDS.get(0) + "]\n"
                + "  soak: " + soak.toSeconds() + "s\n"
                + "  leaseTtl: " + ttl.toSeconds() + "s\n";
    }

    Host canary() { return hosts.get(0); }

    List<Host> others() { return hosts.subList(1, hosts.size()); }

    /** Publishes a stand-in build into the shared registry and points the nightly tag at it. */
    void publish(String version, String flavor) throws Exception {
        canary().bed.publish(version, flavor, "nightly");
    }

    /** SIGHUP to every controller: each looks at the registry now instead of at its next resync. */
    void hupAll() throws Exception {
        for (Host h : hosts) h.daemon.signal("HUP");
    }

    /** The operator's CLI in-process, against the first host's desired state (any host's names the same fleet); fails unless it exits 0. */
    String cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("-f", canary().bed.spec.toString()));
        CapturedCli r = CapturedCli.run(all.toArray(String[]::new));
        assertEquals(Main.OK, r.code(), "t3-reconciler " + String.join(" ", all) + ":\n" + r.out() + r.err());
        return r.out();
    }

    int[] marks() { return hosts.stream().mapToInt(Host::mark).toArray(); }

    /**
     * Waits until every host ends a pass converged (its fleet housekeeping done: slot released, promotion recorded) with
     * {@code version} installed and last-good. A converged pass from before the rollout reached a host is skipped.
     */
    void awaitEverywhere(int[] marks, String version) throws Exception {
        for (int i = 0; i < hosts.size(); i++) {
            Host h = hosts.get(i);
            int from = marks[i];
            while (true) {
                int at = h.daemon.awaitIndex(from, DaemonProcess.ev("reconciled").and(n -> n.path("outcome").asText().equals("converged")), WAIT,
                        h.id + " converges on " + version);
                if (version.equals(h.installed()) && Optional.of(version).equals(h.lastGood())) break;
                from = at + 1;
            }
        }
    }

    List<SlotHistory.Step> slotHistory() throws Exception { return SlotHistory.replay(operator.etcd, group); }

    /** When {@code host} first recorded promoting {@code version} in etcd. */
    Optional<Instant> promotedAt(String version, String host) throws EtcdException {
        return Optional.ofNullable(operator.facts().promotions().getOrDefault(version, Map.of()).get(host));
    }

    /** Daemons first (a clean stop revokes each lease while etcd still answers), then beds, then etcd. */
    @Override
    public void close() throws Exception {
        List<AutoCloseable> parts = new ArrayList<>();
        for (Host h : hosts) if (h.daemon != null) parts.add(h.daemon);
        for (Host h : hosts) parts.add(h.bed);
        parts.add(operator);
        parts.add(etcd);
        Exception failure = null;
        for (AutoCloseable p : parts) {
            try {
                p.close();
            } catch (Exception e) {
                if (failure == null) failure = e;
                else failure.addSuppressed(e);
            }
        }
        if (failure != null) throw failure;
    }
}
