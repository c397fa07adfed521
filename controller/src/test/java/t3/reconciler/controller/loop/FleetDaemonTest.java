package t3.reconciler.controller.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.actuator.FleetPort;
import t3.reconciler.controller.crash.CrashPoints;
import t3.reconciler.controller.fake.FakeActuators;
import t3.reconciler.controller.fake.FakeEtcd;
import t3.reconciler.controller.fake.FakeFleet;
import t3.reconciler.controller.fake.FakeSpec;
import t3.reconciler.controller.fake.RecordingAlerter;
import t3.reconciler.controller.fake.StepClock;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.plan.Action;
import t3.reconciler.controller.plan.Gate;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.Channel;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.Version;

/** The daemon's fleet wiring: the release of a stale slot at start, and the fleet's watch as a trigger source. */
class FleetDaemonTest {
    static final Version A = Version.parse("0.0.25-nightly.20260601.1");
    static final Version B = Version.parse("0.0.25-nightly.20260608.2");

    @TempDir Path dir;

    @Test
    void atStartASlotHeldUnderAnEarlierLeaseIsReleasedAndAFleetChangeWakesTheLoop() throws Exception {
        StepClock clock = new StepClock(Instant.parse("2026-06-08T04:00:00Z"));
        DesiredState spec = FakeSpec.write(dir, List.of("alice"), "fleet: {endpoints: ['http://127.0.0.1:2379'], hostId: h1}\n");
        FakeActuators fx = new FakeActuators(dir, FakeSpec.UNIT, clock).settledOn(A, List.of("alice"));
        FakeEtcd etcd = new FakeEtcd(clock);
        // The controller before this one died holding a slot: its lease has not run out yet.
        fx.fleet(etcd, "h1", 1).lock();
        assertEquals(List.of("h1"), etcd.holders());

        FakeFleet fleet = fx.fleet(etcd, "h1", 1);
        Log log = Log.toStderr(clock);
        BlockingQueue<Daemon.Pass> passes = new LinkedBlockingQueue<>();
        ManualTimer timer = new ManualTimer();
        try (StateStore store = StateStore.open(spec.controller().stateDb())) {
            SpecHolder holder = new SpecHolder(dir.resolve("desired-state.yaml"), spec, log);
            HeldBack held = HeldBack.persistedIn(store);
            Reconciler reconciler = new Reconciler(fx.actuators().withFleet(Optional.of(fleet)), store, clock, log, new RecordingAlerter(), CrashPoints.none());
            Daemon daemon = new Daemon(holder, store, reconciler, new Metrics(holder, held), held, clock, log, new RecordingAlerter())
                    .sources(timer, List.of()).onPass(passes::add).fleet(s -> Optional.<FleetPort>of(fleet));
            CompletableFuture<Reconciler.Result> running = CompletableFuture.supplyAsync(() -> {
                try {
                    return daemon.run(false, false);
                } catch (Exception e) {
                    throw new CompletionException(e);
                }
            });
            try {
                assertNotNull(passes.poll(60, TimeUnit.SECONDS), "no first pass");
                assertTrue(fx.calls().contains("fleet.releaseStale h1"));
                assertEquals(List.of(), etcd.holders(), "the stale slot was released at start");
                assertNotNull(timer.armed.poll(60, TimeUnit.SECONDS), "the loop went idle");

                fx.registry.publish(Channel.NIGHTLY, B);
                etcd.freeze("ops", "incident 7");
                Daemon.Pass p = passes.poll(60, TimeUnit.SECONDS);
                assertNotNull(p, "the fleet's change did not wake the loop");
                assertTrue(p.why().contains("fleet"), p.why().toString());
                assertEquals(Optional.of(Gate.FLEET_FROZEN), p.result().last().map(d -> d.action()).filter(a -> a instanceof Action.Hold).map(a -> ((Action.Hold) a).gate()));
                assertEquals(List.of(), fx.calls("packages.install"));
            } finally {
                daemon.stop();
                running.get(60, TimeUnit.SECONDS);
            }
            assertTrue(fx.calls().contains("fleet.close h1"), "a clean stop closes the port (revokes the lease: the slot goes at once, not after the TTL)");
        }
    }
}
