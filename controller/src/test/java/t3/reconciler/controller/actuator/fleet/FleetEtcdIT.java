package t3.reconciler.controller.actuator.fleet;

import t3.reconciler.model.fleet.FleetFacts;
import t3.reconciler.model.fleet.SlotHolder;
import t3.reconciler.model.fleet.Verdict;
import t3.reconciler.model.fleet.HostStatus;
import t3.reconciler.model.fleet.EtcdHealth;
import t3.reconciler.model.fleet.Waves;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.testbed.EtcdCluster;

/** The fleet layer against one real etcd member on loopback; each test has a group of its own. */
class FleetEtcdIT {
    private static final Duration SHORT_TTL = Duration.ofSeconds(2);
    /** Longest quiet spell a wait tolerates: a lease of 2s must have run out well before. */
    private static final Duration QUIET = Duration.ofSeconds(20);

    @TempDir
    static Path dir;
    static EtcdCluster etcd;
    Hosts hosts;

    @BeforeAll
    static void startEtcd() throws Exception {
        etcd = EtcdCluster.start(dir, 1);
    }

    @AfterAll
    static void stopEtcd() throws Exception {
        if (etcd != null) etcd.close();
    }

    @BeforeEach
    void group(TestInfo t) {
        hosts = new Hosts(etcd.endpoints(), t.getTestMethod().orElseThrow().getName().toLowerCase(java.util.Locale.ROOT));
    }

    @AfterEach
    void closeHosts() {
        hosts.close();
    }

    @Test
    void concurrentHostsNeverHoldMoreThanMaxSlots() throws Exception {
        int max = 3, hostCount = 8, rounds = 4;
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();
        AtomicInteger etcdPeak = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(hostCount);
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int h = 0; h < hostCount; h++) {
                Fleet host = hosts.host("host-" + h, max, Duration.ofSeconds(30));
                done.add(pool.submit(() -> {
                    int taken = 0;
                    while (taken < rounds) {
                        SlotResult r = host.lock();
                        if (r instanceof SlotResult.Full) {
                            Thread.onSpinWait();
                            continue;
                        }
                        assertEquals(new SlotResult.Taken(false), r);
                        // Counted only between a committed take and the release being sent: an overlap of more than max
                        // here is more than max holders in etcd.
                        peak.accumulateAndGet(inside.incrementAndGet(), Math::max);
                        etcdPeak.accumulateAndGet(host.slots.holders().size(), Math::max);
                        inside.decrementAndGet();
                        assertEquals(new SlotResult.Released(), host.unlock());
                        taken++;
                    }
                    return taken;
                }));
            }
            for (Future<Integer> f : done) assertEquals(rounds, f.get());
        } finally {
            pool.shutdownNow();
        }
        assertTrue(peak.get() <= max, "hosts inside at once: " + peak.get());
        assertTrue(etcdPeak.get() <= max, "slot keys seen at once: " + etcdPeak.get());
        assertTrue(etcdPeak.get() >= 1);
    }

    @Test
    void lockIsRecursiveForItsHolder() throws Exception {
        Fleet a = hosts.host("a", 1, Duration.ofSeconds(30));
        assertEquals(new SlotResult.Taken(false), a.lock());
        assertEquals(new SlotResult.Taken(true), a.lock());
        assertEquals(1, a.slots.holders().size());
        assertTrue(a.facts().selfHoldsSlot());
        assertEquals(0, a.facts().slotsFree());
        assertEquals(new SlotResult.Released(), a.unlock());
        assertEquals(new SlotResult.NotHeld(), a.unlock());
        assertEquals(1, a.facts().slotsFree());
    }

    @Test
    void aHostCannotUnlockAnotherHostsSlotButAnOperatorCan() throws Exception {
        Fleet a = hosts.host("a", 1, Duration.ofSeconds(30));
        Fleet b = hosts.host("b", 1, Duration.ofSeconds(30));
        assertEquals(new SlotResult.Taken(false), a.lock());
        SlotResult full = b.lock();
        assertInstanceOf(SlotResult.Full.class, full);
        assertEquals(List.of("a"), ((SlotResult.Full) full).holders().stream().map(SlotHolder::host).toList());
        assertEquals(new SlotResult.Refused("a"), b.slots.unlock("a"));
        assertTrue(a.facts().selfHoldsSlot(), "the refused unlock left a's slot alone");

        assertEquals(new SlotResult.Released(), b.slots.forceUnlock("a"));
        assertFalse(a.facts().selfHoldsSlot());
        assertEquals(new SlotResult.Taken(false), b.lock());
    }

    @Test
    void aDeadHostsSlotFreesAfterTheTtl() throws Exception {
        Fleet dead = hosts.host("dead", 1, SHORT_TTL);
        Fleet next = hosts.host("next", 1, Duration.ofSeconds(30));
        Hosts.Changes changes = new Hosts.Changes(next.changes());
        assertEquals(new SlotResult.Taken(false), dead.lock());
        assertInstanceOf(SlotResult.Full.class, next.lock());
        Instant killed = Instant.now();
        dead.lease.abandon(); // as SIGKILL: nobody renews or revokes the lease

        changes.until(() -> next.facts().slotsFree() == 1, QUIET, "the dead host's slot to free");
        assertTrue(Duration.between(killed, Instant.now()).compareTo(Duration.ofMillis(500)) > 0, "freed by the lease running out, not at once");
        assertEquals(new SlotResult.Taken(false), next.lock());
    }

    @Test
    void aRestartedControllerReclaimsItsOwnSlotInsteadOfTakingASecond() throws Exception {
        Fleet before = hosts.host("h", 1, Duration.ofSeconds(30));
        assertEquals(new SlotResult.Taken(false), before.lock());
        before.lease.abandon();
        Fleet after = hosts.host("h", 1, Duration.ofSeconds(30));
        assertFalse(after.facts().selfHoldsSlot(), "the old lease's slot is not this controller's yet");
        assertEquals(new SlotResult.Taken(true), after.lock());
        assertEquals(1, after.slots.holders().size());
        assertTrue(after.facts().selfHoldsSlot());
    }

    @Test
    void aVerdictReachesAnotherHostThroughTheWatch() throws Exception {
        Fleet a = hosts.host("a", 1, Duration.ofSeconds(30));
        Fleet b = hosts.host("b", 1, Duration.ofSeconds(30));
        Hosts.Changes changes = new Hosts.Changes(b.changes());
        String v = "0.0.26-nightly.20261129";
        assertFalse(b.facts().isBlocked(v));

        assertTrue(a.records.block(v, "a", "health check failed: migration error"));
        changes.until(() -> b.facts().isBlocked(v), QUIET, "b to see the verdict");
        Verdict seen = b.facts().verdicts().get(v);
        assertEquals("a", seen.host());
        assertEquals("health check failed: migration error", seen.reason());
        assertFalse(b.records.block(v, "b", "canary failed"), "the first verdict stands");
        assertEquals("a", b.facts().verdicts().get(v).host());

        assertTrue(b.records.unblock(v));
        changes.until(() -> !a.facts().isBlocked(v) && !b.facts().isBlocked(v), QUIET, "the unblock");
        assertFalse(b.records.unblock(v));
    }

    @Test
    void fleetFreezeIsSeenByEveryHost() throws Exception {
        Fleet a = hosts.host("a", 1, Duration.ofSeconds(30));
        Fleet b = hosts.host("b", 1, Duration.ofSeconds(30));
        Hosts.Changes changes = new Hosts.Changes(b.changes());
        assertEquals(Optional.empty(), b.facts().freeze());
        a.records.freeze("operator@a", "incident 42");
        changes.until(() -> b.facts().freeze().isPresent(), QUIET, "the freeze");
        assertEquals("incident 42", b.facts().freeze().get().reason());
        assertEquals("operator@a", b.facts().freeze().get().by());
        assertTrue(b.records.unfreeze("operator@b"));
        changes.until(() -> a.facts().freeze().isEmpty(), QUIET, "the unfreeze");
    }

    @Test
    void statusKeyVanishesWhenItsLeaseEnds() throws Exception {
        Fleet a = hosts.host("a", 1, SHORT_TTL);
        Fleet b = hosts.host("b", 1, Duration.ofSeconds(30));
        Hosts.Changes changes = new Hosts.Changes(b.changes());
        Instant now = Instant.ofEpochMilli(Instant.now().toEpochMilli());
        HostStatus status = new HostStatus("a", Optional.of("0.0.26"), Optional.of("0.0.25"), Map.of("t3rfa", "0.0.26"), "closed", "idle", now);
        a.records.publish(status);
        changes.until(() -> b.facts().hosts().containsKey("a"), QUIET, "a's status");
        assertEquals(status, b.facts().hosts().get("a"));

        // The watch does not report statuses (display only: FleetWatch.wakes); a's slot, under the same lease, goes in
        // the same revision as its status, and that the watch reports.
        assertInstanceOf(SlotResult.Taken.class, a.lock());
        a.lease.abandon();
        changes.until(() -> !b.facts().hosts().containsKey("a"), QUIET, "a's status to vanish with its lease");
        assertTrue(a.lease.renew() == false && a.lease.lost(), "a learns that its lease ran out");
        assertTrue(a.facts().leaseLost());
    }

    @Test
    void canaryPromotionsGateTheOtherHosts() throws Exception {
        Fleet canary = hosts.host("canary", 1, Duration.ofSeconds(30), List.of("canary"), Duration.ofMinutes(30));
        Fleet other = hosts.host("other", 1, Duration.ofSeconds(30), List.of("canary"), Duration.ofMinutes(30));
        Hosts.Changes changes = new Hosts.Changes(other.changes());
        String v = "0.0.27";
        assertEquals(new Waves.Go(), Waves.gate(canary.facts(), List.of("canary"), Duration.ofMinutes(30), v, Instant.now()));
        assertEquals(new Waves.AwaitingCanaries(List.of("canary")), Waves.gate(other.facts(), List.of("canary"), Duration.ofMinutes(30), v, Instant.now()));

        canary.records.promoted(v, "canary");
        changes.until(() -> other.facts().promotions().containsKey(v), QUIET, "the promotion");
        Instant at = other.facts().promotions().get(v).get("canary");
        assertEquals(new Waves.Soaking(at.plus(Duration.ofMinutes(30))), Waves.gate(other.facts(), List.of("canary"), Duration.ofMinutes(30), v, at.plusSeconds(1)));
        assertEquals(new Waves.Go(), Waves.gate(other.facts(), List.of("canary"), Duration.ofMinutes(30), v, at.plus(Duration.ofMinutes(30))));
        canary.records.promoted(v, "canary");
        assertEquals(at, other.facts().promotions().get(v).get("canary"), "promoting again does not restart the soak");
    }

    @Test
    void factsComeFromOneReadAtOneRevision() throws Exception {
        Fleet a = hosts.host("a", 2, Duration.ofSeconds(30));
        a.lock();
        a.records.block("1.0.0", "a", "rollback");
        FleetFacts f = a.facts();
        assertEquals(EtcdHealth.QUORUM, f.etcd());
        assertTrue(f.revision() > 0);
        assertEquals("a", f.self());
        assertEquals(List.of("a"), f.slotHolders().stream().map(SlotHolder::host).toList());
        assertEquals(1, f.slotsFree());
        assertEquals(List.of("1.0.0"), List.copyOf(f.verdicts().keySet()));
        assertFalse(f.leaseLost());
    }
}
