package t3.reconciler.controller.fake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.crash.CrashPoints;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.loop.Actuators;
import t3.reconciler.controller.loop.Reconciler;
import t3.reconciler.controller.plan.Gate;
import t3.reconciler.controller.plan.PassOutcome;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.Channel;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.Version;
import t3.reconciler.model.fleet.EtcdHealth;

/**
 * Two or three hosts in one JVM, each with its own in-memory machine, real SQLite store and real loop, sharing one
 * in-memory etcd ({@link FakeEtcd}) through their fleet ports: the wiring of issue 16 end to end, without root. The real
 * etcd under the same loop is {@code FleetLoopEtcdIT}.
 */
class FleetLoopTest {
    static final Version A = Version.parse("0.0.25-nightly.20260601.1");
    static final Version B = Version.parse("0.0.25-nightly.20260608.2");
    static final List<String> USERS = List.of("alice", "bob");

    @TempDir Path dir;
    final StepClock clock = new StepClock(Instant.parse("2026-06-08T04:00:00Z"));
    final FakeEtcd etcd = new FakeEtcd(clock);
    final List<Host> hosts = new ArrayList<>();

    /** One controller: its machine, its store, its fleet port, its loop. */
    final class Host implements AutoCloseable {
        final String name;
        final DesiredState spec;
        final FakeActuators fx;
        final FakeFleet fleet;
        final StateStore store;
        final Reconciler loop;
        final AtomicInteger woken = new AtomicInteger();

        Host(String name, String fleetKeys) throws Exception {
            this.name = name;
            Path home = java.nio.file.Files.createDirectories(dir.resolve(name));
            spec = FakeSpec.write(home, USERS, "fleet: {endpoints: ['http://127.0.0.1:2379'], hostId: " + name + fleetKeys + "}\n");
            fx = new FakeActuators(home, FakeSpec.UNIT, clock);
            fx.settledOn(A, USERS).registry.publish(Channel.NIGHTLY, B);
            fleet = fx.fleet(etcd, name, spec.fleet().get().maxConcurrentHosts());
            fleet.changes().onChange(woken::incrementAndGet);
            store = StateStore.open(spec.controller().stateDb());
            Actuators io = fx.actuators().withFleet(Optional.of(fleet));
            loop = new Reconciler(io, store, clock, Log.toStderr(clock), new RecordingAlerter(), CrashPoints.none());
        }

        Reconciler.Result pass() { return loop.reconcile(() -> spec, false, () -> false); }

        boolean installed(Version v) { return fx.calls().contains("packages.install " + v); }

        /** This host publishes a verdict, as its own rollback would. */
        void fleetBlock(Version v) {
            try {
                fleet.block(v, "canary carol: pairing 401");
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }

        @Override
        public void close() {
            fleet.close();
            store.close();
        }
    }

    Host host(String name, String fleetKeys) throws Exception {
        Host h = new Host(name, fleetKeys);
        hosts.add(h);
        return h;
    }

    @AfterEach
    void close() {
        hosts.forEach(Host::close);
    }

    static void converged(Host h, Version v, Reconciler.Result r) {
        assertEquals(PassOutcome.CONVERGED, r.outcome(), h.name + ": " + r.summary());
        assertEquals(Optional.of(v), h.store.lastGood(), h.name);
        for (String u : USERS) assertEquals(Optional.of(v), h.fx.units.runs(u), h.name + " " + u);
    }

    @Test
    void aGoodVersionGoesToTheCanaryHostFirstThenToTheOthersAfterTheSoak() throws Exception {
        String keys = ", canaryHosts: [h1], soak: 1h";
        Host h1 = host("h1", keys), h2 = host("h2", keys), h3 = host("h3", keys);

        Reconciler.Result early = h2.pass();
        assertEquals(Optional.of(Gate.FLEET_WAVES), early.gate(), early.summary());
        assertEquals(Optional.empty(), early.requeue(), "awaiting the canaries is woken by the watch, not a timer");
        assertFalse(h2.installed(B), "a non-canary host does not even install before the canary host promoted");

        converged(h1, B, h1.pass());
        assertTrue(etcd.promotions(B.toString()).containsKey("h1"), "the canary host recorded its promotion");
        assertEquals(List.of(), etcd.holders(), "and released its slot");
        assertTrue(h2.woken.get() > 0, "the other hosts were woken by the watch");

        Reconciler.Result soaking = h2.pass();
        assertEquals(Optional.of(Gate.FLEET_WAVES), soaking.gate(), soaking.summary());
        Duration left = soaking.requeue().orElseThrow();
        assertTrue(left.compareTo(Duration.ofMinutes(59)) > 0 && left.compareTo(Duration.ofHours(1)) <= 0, "rechecked when the soak ends: " + left);
        assertFalse(h2.installed(B));

        clock.advance(Duration.ofHours(1));
        converged(h2, B, h2.pass());
        converged(h3, B, h3.pass());
        assertEquals(1, etcd.maxHeldAtOnce());
        assertEquals(List.of(), etcd.holders());
    }

    @Test
    void neverMoreThanMaxConcurrentHostsHoldASlot() throws Exception {
        Host h1 = host("h1", ""), h2 = host("h2", "");
        List<Reconciler.Result> inside = new ArrayList<>();
        // h2 runs a whole pass while h1 restarts alice, between its slot-taken and slot-released.
        h1.fx.hook(call -> {
            if (call.equals("units.restart t3-serve@alice.service") && inside.isEmpty()) inside.add(h2.pass());
        });
        converged(h1, B, h1.pass());

        Reconciler.Result held = inside.get(0);
        assertEquals(Optional.of(Gate.FLEET_SLOTS_FULL), held.gate(), held.summary());
        assertTrue(h2.installed(B), "backups, install and health check need no slot");
        assertEquals(Optional.of(A), h2.fx.releases.activeVersion(), "the link did not move without a slot");
        assertEquals(List.of(), h2.fx.calls("units.restart"));
        assertTrue(h2.woken.get() > 0, "h1's release woke h2");

        converged(h2, B, h2.pass());
        assertEquals(1, etcd.maxHeldAtOnce(), "never two hosts inside at once");
    }

    @Test
    void aVersionThatFailsOnTheCanaryHostIsBlockedOnTheOthersAndNeverInstalledThere() throws Exception {
        String keys = ", canaryHosts: [h1], soak: 1h";
        Host h1 = host("h1", keys), h2 = host("h2", keys);
        h1.fx.failCanary("bob", B);

        Reconciler.Result failed = h1.pass();
        assertEquals(Optional.of(Gate.BREAKER), failed.gate(), failed.summary());
        assertEquals(Optional.of(A), h1.fx.releases.activeVersion(), "rolled back on h1");
        assertEquals("h1", etcd.verdicts().get(B.toString()).host());
        List<String> order = h1.fx.calls().stream().filter(c -> c.startsWith("fleet.block") || c.startsWith("backups.restore")).toList();
        assertEquals("fleet.block " + B, order.get(0), "the verdict goes out before the rollback's restores: " + order);
        assertEquals(List.of(), etcd.holders(), "the slot is released after the rollback");

        clock.advance(Duration.ofHours(2));
        Reconciler.Result blocked = h2.pass();
        assertEquals(Optional.of(Gate.FLEET_BLOCKED), blocked.gate(), blocked.summary());
        assertTrue(blocked.summary().contains("failed on h1"), blocked.summary());
        assertFalse(h2.installed(B), "never installed on the other host");
        assertEquals(Optional.of(A), h2.fx.units.runs("alice"));
    }

    @Test
    void aVerdictArrivingMidRolloutFailsItAndTheNormalRollbackRuns() throws Exception {
        Host h1 = host("h1", ", maxConcurrentHosts: 2"), h2 = host("h2", ", maxConcurrentHosts: 2");
        // Another host fails B while h1 restarts alice.
        h1.fx.hook(call -> {
            if (call.equals("units.restart t3-serve@alice.service")) h2.fleetBlock(B);
        });
        Reconciler.Result r = h1.pass();
        assertEquals(Optional.of(Gate.BREAKER), r.gate(), r.summary());
        assertEquals(Optional.of(A), h1.fx.units.runs("alice"), "alice restored");
        assertTrue(h1.fx.backups.restoredFrom("alice").isPresent());
        assertEquals(List.of(), h1.fx.calls("units.restart t3-serve@bob.service"), "bob never restarted onto the blocked build");
        assertEquals("h2", etcd.verdicts().get(B.toString()).host(), "the first verdict stands");
    }

    @Test
    void aFleetFreezeStopsAHostAtTheNextStepBoundary() throws Exception {
        Host h1 = host("h1", "");
        h1.fx.hook(call -> {
            if (call.equals("units.restart t3-serve@alice.service")) etcd.freeze("ops", "incident 7");
        });
        Reconciler.Result r = h1.pass();
        assertEquals(Optional.of(Gate.FLEET_FROZEN), r.gate(), r.summary());
        assertEquals(Optional.of(B), h1.fx.units.runs("alice"), "the step in flight finished");
        assertEquals(Optional.of(A), h1.fx.units.runs("bob"), "the next one waits");

        etcd.unfreeze();
        h1.fx.hook(call -> {});
        converged(h1, B, h1.pass());
    }

    @Test
    void etcdDownMidRolloutFinishesTheStepAndHoldsBeforeTheNextRestart() throws Exception {
        Host h1 = host("h1", "");
        h1.fx.hook(call -> {
            if (call.equals("units.restart t3-serve@alice.service")) etcd.down(EtcdHealth.UNREACHABLE);
        });
        Reconciler.Result r = h1.pass();
        assertEquals(Optional.of(Gate.FLEET_UNAVAILABLE), r.gate(), r.summary());
        assertTrue(r.transientFault(), "an outage: retried with backoff");
        assertEquals(Optional.of(B), h1.fx.units.runs("alice"));
        assertEquals(List.of("pairing.verify alice@" + B), h1.fx.calls("pairing.verify"), "alice's step ran to its end");
        assertEquals(Optional.of(A), h1.fx.units.runs("bob"));

        etcd.up();
        h1.fx.hook(call -> {});
        converged(h1, B, h1.pass());
    }

    @Test
    void aFailingBuildsRollbackCompletesWithEtcdDownAndTheVerdictFollowsWhenItIsBack() throws Exception {
        Host h1 = host("h1", "");
        h1.fx.failCanary("bob", B);
        h1.fx.hook(call -> {
            if (call.equals("units.restart t3-serve@bob.service")) etcd.down(EtcdHealth.NO_QUORUM);
        });
        Reconciler.Result r = h1.pass();
        assertEquals(Optional.of(Gate.BREAKER), r.gate(), r.summary());
        assertEquals(Optional.of(A), h1.fx.releases.activeVersion(), "the link went back without etcd");
        assertTrue(h1.fx.backups.restoredFrom("alice").isPresent() && h1.fx.backups.restoredFrom("bob").isPresent(), "everyone restored without etcd");
        assertTrue(h1.store.rollout().isEmpty(), "the rollback finished");
        assertEquals(java.util.Map.of(), etcd.verdicts(), "nothing published while etcd was down");

        etcd.up();
        h1.fx.hook(call -> {});
        h1.pass();
        assertEquals("h1", etcd.verdicts().get(B.toString()).host(), "published once etcd answers");
        assertEquals(List.of(), etcd.holders(), "and the slot released");
        assertEquals(java.util.Map.of(), h1.store.unpublishedBlocks(), "published is remembered");

        // An operator's 'fleet unblock' is not undone by this host publishing again.
        etcd.unblock(B.toString());
        h1.pass();
        assertEquals(java.util.Map.of(), etcd.verdicts());
    }

    @Test
    void aControllerRestartedMidRolloutTakesItsOwnSlotOverAndNoOtherHostGetsIn() throws Exception {
        Host h1 = host("h1", ""), h2 = host("h2", "");
        h1.fx.busy("bob");
        Reconciler.Result paused = h1.pass();
        assertEquals(Optional.of(Gate.BUSY), paused.gate(), paused.summary());
        assertEquals(List.of("h1"), etcd.holders());

        // The controller dies (its lease not revoked, not expired yet) and a new one starts on the same store and machine.
        FakeFleet restarted = h1.fx.fleet(etcd, "h1", 1);
        Reconciler again = new Reconciler(h1.fx.actuators().withFleet(Optional.of(restarted)), h1.store, clock, Log.toStderr(clock), new RecordingAlerter(), CrashPoints.none());
        assertEquals(Optional.of(Gate.FLEET_SLOTS_FULL), h2.pass().gate(), "the old lease's slot still counts for the others");
        h1.fx.busy.idle("bob");
        Reconciler.Result done = again.reconcile(() -> h1.spec, false, () -> false);
        converged(h1, B, done);
        assertEquals(1, etcd.maxHeldAtOnce(), "taken over, not taken twice");
        assertEquals(List.of(), etcd.holders());
        restarted.close();
    }

    @Test
    void aHostThatLosesItsLeaseStopsAtTheStepBoundaryAndTakesASlotAgain() throws Exception {
        Host h1 = host("h1", "");
        h1.fx.hook(call -> {
            if (call.equals("units.restart t3-serve@alice.service")) h1.fleet.loseLease();
        });
        Reconciler.Result r = h1.pass();
        assertEquals(Optional.of(Gate.FLEET_LEASE_LOST), r.gate(), r.summary());
        assertEquals(Optional.of(A), h1.fx.units.runs("bob"));
        assertTrue(r.requeue().isPresent(), "looked at again soon: the status publish at the pass end granted a fresh lease");

        h1.fx.hook(call -> {});
        converged(h1, B, h1.pass());
        assertEquals(2, h1.fx.calls("fleet.lock").size(), "a slot was taken again under the fresh lease");
    }
}
