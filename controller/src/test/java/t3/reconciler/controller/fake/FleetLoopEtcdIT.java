package t3.reconciler.controller.fake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.actuator.fleet.Fleet;
import t3.reconciler.controller.crash.CrashPoints;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.loop.Reconciler;
import t3.reconciler.controller.plan.Gate;
import t3.reconciler.controller.plan.PassOutcome;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.controller.testbed.EtcdCluster;
import t3.reconciler.model.Channel;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.Version;
import t3.reconciler.model.fleet.FleetFacts;

/**
 * The real {@link Fleet} port (etcd's JSON gateway, real leases, slots, verdicts and promotions) under the real loop,
 * two hosts against one real etcd member on loopback; every other actuator is in memory. What {@link FleetLoopTest}
 * shows on the in-memory etcd, here through etcd itself.
 */
class FleetLoopEtcdIT {
    static final Version A = Version.parse("0.0.25-nightly.20260601.1");
    static final Version B = Version.parse("0.0.25-nightly.20260608.2");
    static final List<String> USERS = List.of("alice");
    /** Longest a watch event may take to arrive on a loaded machine: a failure bound, not a pacing. */
    static final Duration EVENT = Duration.ofSeconds(20);

    @TempDir static Path etcdDir;
    static EtcdCluster etcd;

    @TempDir Path dir;
    final StepClock clock = new StepClock(Instant.parse("2026-06-08T04:00:00Z"));
    final List<AutoCloseable> open = new ArrayList<>();
    final Log log = new Log(new PrintStream(System.out, true), Log.Format.JSON, clock);

    @BeforeAll
    static void startEtcd() throws Exception {
        etcd = EtcdCluster.start(etcdDir, 1);
    }

    @AfterAll
    static void stopEtcd() throws Exception {
        if (etcd != null) etcd.close();
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open) c.close();
    }

    final class Host {
        final String name;
        final FakeActuators fx;
        final Fleet fleet;
        final StateStore store;
        final Reconciler loop;
        final DesiredState spec;
        final Semaphore changes = new Semaphore(0);

        Host(String group, String name, String keys) throws Exception {
            this.name = name;
            Path home = Files.createDirectories(dir.resolve(name));
            String endpoints = String.join(", ", etcd.endpoints().stream().map(u -> "'" + u + "'").toList());
            spec = FakeSpec.write(home, USERS, "fleet: {endpoints: [" + endpoints + "], group: " + group + ", hostId: " + name + keys + "}\n");
            fx = new FakeActuators(home, FakeSpec.UNIT, clock);
            fx.settledOn(A, USERS).registry.publish(Channel.NIGHTLY, B);
            fleet = Fleet.open(spec.fleet().get(), clock, log);
            open.add(fleet);
            fleet.changes().onChange(changes::release);
            store = StateStore.open(spec.controller().stateDb());
            open.add(store);
            loop = new Reconciler(fx.actuators().withFleet(Optional.of(fleet)), store, clock, log, new RecordingAlerter(), CrashPoints.none());
        }

        Reconciler.Result pass() { return loop.reconcile(() -> spec, false, () -> false); }

        FleetFacts facts() { return fleet.facts(); }
    }

    static String group(TestInfo t) { return t.getTestMethod().orElseThrow().getName().toLowerCase(java.util.Locale.ROOT); }

    @Test
    void aGoodVersionGoesThroughRealSlotsPromotionsAndWaves(TestInfo t) throws Exception {
        String keys = ", canaryHosts: [h1], soak: 1h";
        Host h1 = new Host(group(t), "h1", keys), h2 = new Host(group(t), "h2", keys);

        Reconciler.Result early = h2.pass();
        assertEquals(Optional.of(Gate.FLEET_WAVES), early.gate(), early.summary());
        assertTrue(early.summary().contains("canary host(s) h1"), early.summary());

        h2.changes.drainPermits();
        Reconciler.Result r1 = h1.pass();
        assertEquals(PassOutcome.CONVERGED, r1.outcome(), r1.summary());
        assertEquals(Optional.of(B), h1.fx.units.runs("alice"));
        List<String> steps = h1.store.events(Optional.empty(), 100).stream().map(e -> e.action()).toList();
        assertTrue(steps.containsAll(List.of("take-slot", "release-slot", "record-promotion")), "the fleet's steps are events: " + steps);
        FleetFacts seen = h2.facts();
        assertTrue(seen.promotions().getOrDefault(B.toString(), java.util.Map.of()).containsKey("h1"), "h1's promotion is in etcd");
        assertEquals(List.of(), seen.slotHolders(), "h1's slot was released");
        assertTrue(seen.hosts().containsKey("h1"), "h1 published its status under its lease");
        assertTrue(h2.changes.tryAcquire(EVENT.toMillis(), TimeUnit.MILLISECONDS), "h2's watch saw h1's slot and promotion");

        Reconciler.Result soaking = h2.pass();
        assertEquals(Optional.of(Gate.FLEET_WAVES), soaking.gate(), soaking.summary());
        assertTrue(soaking.requeue().isPresent(), "rechecked when the soak ends");
        assertFalse(h2.fx.calls().contains("packages.install " + B));

        clock.advance(Duration.ofHours(1));
        Reconciler.Result r2 = h2.pass();
        assertEquals(PassOutcome.CONVERGED, r2.outcome(), r2.summary());
        assertEquals(Optional.of(B), h2.fx.units.runs("alice"));
        assertEquals(List.of(), h2.facts().slotHolders());
        assertEquals(java.util.Set.of("h1", "h2"), h2.facts().promotions().get(B.toString()).keySet());
    }

    @Test
    void aBuildThatFailsOnTheCanaryHostIsBlockedThroughEtcd(TestInfo t) throws Exception {
        String keys = ", canaryHosts: [h1], soak: 1h";
        Host h1 = new Host(group(t), "h1", keys), h2 = new Host(group(t), "h2", keys);
        h1.fx.failCanary("alice", B);

        Reconciler.Result r1 = h1.pass();
        assertEquals(Optional.of(Gate.BREAKER), r1.gate(), r1.summary());
        assertEquals("h1", h2.facts().verdicts().get(B.toString()).host(), "the verdict is in etcd");
        assertEquals(List.of(), h2.facts().slotHolders(), "h1 released its slot after the rollback");

        clock.advance(Duration.ofHours(2));
        Reconciler.Result r2 = h2.pass();
        assertEquals(Optional.of(Gate.FLEET_BLOCKED), r2.gate(), r2.summary());
        assertFalse(h2.fx.calls().contains("packages.install " + B), "never installed on h2");
    }
}
