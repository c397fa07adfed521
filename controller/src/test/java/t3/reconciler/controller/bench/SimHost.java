package t3.reconciler.controller.bench;

import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import t3.reconciler.controller.actuator.fleet.Fleet;
import t3.reconciler.controller.crash.CrashPoints;
import t3.reconciler.controller.fake.FakeActuators;
import t3.reconciler.controller.fake.FakeSpec;
import t3.reconciler.controller.fake.RecordingAlerter;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.loop.Daemon;
import t3.reconciler.controller.loop.HeldBack;
import t3.reconciler.controller.loop.LiveActuators;
import t3.reconciler.controller.loop.Metrics;
import t3.reconciler.controller.loop.Reconciler;
import t3.reconciler.controller.loop.ScheduledResyncTimer;
import t3.reconciler.controller.loop.SpecHolder;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.Version;

/**
 * One simulated host of the fleet bench, in process: its own desired-state file and state DB, a daemon loop on the
 * in-memory actuators ({@link FakeActuators}: units, registry, releases, backups, health, pairing), and its own REAL
 * fleet port ({@link Fleet}: its own etcd client, lease and watch) opened by the live actuators as {@code run} does.
 * The real resync timer; the fleet's watch is the trigger that moves a waiting host.
 */
final class SimHost implements AutoCloseable {
    static final String USER = "alice";

    final String id;
    final FakeActuators fx;
    final StateStore store;
    final Daemon daemon;
    private final LiveActuators io;
    private final PrintStream logOut;
    private final Path logFile;
    private final CompletableFuture<Reconciler.Result> running;
    final CountDownLatch firstPass = new CountDownLatch(1);
    private volatile Version waitingFor;
    private volatile CountDownLatch reached;
    volatile Instant reachedAt;

    SimHost(Path dir, String id, List<URI> endpoints, String group, int max, List<String> canaries, Duration soak, Version settled) throws Exception {
        this.id = id;
        Files.createDirectories(dir);
        DesiredState spec = FakeSpec.write(dir, List.of(USER), "fleet:\n  endpoints: [" + endpoints.stream().map(URI::toString).collect(Collectors.joining(", "))
                + "]\n  group: " + group + "\n  hostId: " + id + "\n  maxConcurrentHosts: " + max + "\n  canaryHosts: [" + String.join(", ", canaries)
                + "]\n  soak: " + soak + "\n");
        Clock clock = Clock.systemUTC();
        this.logFile = dir.resolve("controller.log");
        this.logOut = new PrintStream(Files.newOutputStream(logFile), true);
        Log log = new Log(logOut, Log.Format.JSON, clock);
        this.fx = new FakeActuators(dir, FakeSpec.UNIT, clock).settledOn(settled, List.of(USER));
        this.store = StateStore.open(spec.controller().stateDb());
        store.setLastGood(settled, clock.instant());
        this.io = new LiveActuators(s -> fx.actuators(), f -> new Fleet(f, id, clock, log), log);
        SpecHolder holder = new SpecHolder(dir.resolve("desired-state.yaml"), spec, log);
        HeldBack held = HeldBack.persistedIn(store);
        RecordingAlerter alerts = new RecordingAlerter();
        Reconciler reconciler = new Reconciler(io::forSpec, store, clock, log, alerts, CrashPoints.none());
        this.daemon = new Daemon(holder, store, reconciler, new Metrics(holder, held), held, clock, log, alerts)
                .sources(new ScheduledResyncTimer(), List.of())
                .fleet(d -> io.forSpec(d).fleet())
                .onPass(this::passed);
        this.running = CompletableFuture.supplyAsync(() -> {
            try {
                return daemon.run(false, false);
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, r -> {
            Thread t = new Thread(r, "host-" + id);
            t.setDaemon(true);
            t.start();
        });
    }

    /** Counts {@code done} down once, when a pass ends with {@code v} promoted here (last-good, no rollout in flight). */
    void await(Version v, CountDownLatch done) {
        this.reachedAt = null;
        this.reached = done;
        this.waitingFor = v;
    }

    /** The registry's nightly moves to {@code v}, and the host is told now instead of at its next resync. */
    void publish(Version v) {
        fx.registry.publish(t3.reconciler.model.Channel.NIGHTLY, v);
        daemon.triggers().fire("registry");
    }

    private void passed(Daemon.Pass p) {
        firstPass.countDown();
        Version v = waitingFor;
        if (v != null && reachedAt == null && store.lastGood().equals(java.util.Optional.of(v)) && store.rollout().isEmpty()) {
            reachedAt = Instant.now();
            reached.countDown();
        }
    }

    /** What this host's fleet slot did, from its own log's {@code fleet-slot} lines (typed fields, JSON). */
    record SlotLog(int refused, java.util.Optional<Duration> held) {}

    SlotLog slotLog() throws java.io.IOException {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        int refused = 0;
        Instant taken = null, released = null;
        for (String line : Files.readAllLines(logFile)) {
            var n = json.readTree(line);
            if (!"fleet-slot".equals(n.path("event").asText())) continue;
            Instant at = Instant.parse(n.path("ts").asText());
            switch (n.path("outcome").asText()) {
                case "Full" -> refused++;
                case "Taken" -> { if (taken == null) taken = at; }
                case "Released" -> { if (taken != null && released == null) released = at; }
                default -> {}
            }
        }
        return new SlotLog(refused, taken != null && released != null ? java.util.Optional.of(Duration.between(taken, released)) : java.util.Optional.empty());
    }

    /** Where this host stands, for a bench that timed out. */
    String where() {
        return id + ": last-good " + store.lastGood().map(Object::toString).orElse("-") + ", rollout " + store.rollout().map(r -> r.target().toString()).orElse("none")
                + ", last event " + store.events(java.util.Optional.empty(), 1).stream().map(e -> e.action() + " " + e.reason()).findFirst().orElse("-");
    }

    @Override
    public void close() throws Exception {
        daemon.stop();
        daemon.awaitStopped(Duration.ofSeconds(30));
        io.close();
        store.close();
        logOut.close();
    }


}
