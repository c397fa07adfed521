package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import t3.reconciler.controller.actuator.fleet.SlotHistory;
import t3.reconciler.controller.e2e.FleetBeds.Host;
import t3.reconciler.controller.store.Event;
import t3.reconciler.controller.testbed.CapturedCli;
import t3.reconciler.controller.testbed.RegistryBed;
import t3.reconciler.model.fleet.FleetFacts;
import t3.reconciler.model.fleet.Verdict;

/**
 * Issue 16's fleet, end to end: three hosts (each a bed with its own systemd manager, one user and its own controller
 * daemon) coordinating through a real 3-member etcd, {@code canaryHosts: [host-a]}, {@code maxConcurrentHosts: 1}.
 * Every wait is on something a daemon logs or etcd's watch reports; what happened when is read afterwards from each
 * controller's event log (its state database) and from etcd's own history of the slot keys. The tests run in order on
 * one fleet, each publishing the next nightly; the build that fails goes last, since it leaves the canary host's
 * breaker open.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FleetIT {
    static final Duration SOAK = Duration.ofSeconds(5);
    static final Duration LEASE_TTL = Duration.ofSeconds(5);
    static final String V1 = "0.0.25-nightly.20260602.1";
    static final String V2 = "0.0.25-nightly.20260603.1";
    static final String V3 = "0.0.25-nightly.20260604.1";
    static final String V4 = "0.0.25-nightly.20260605.1";
    /** Its record directory under /tmp is shared by every bed on the machine: a version no other test publishes. */
    static final String V5 = "0.0.25-nightly.20260606.16";
    static final String BAD = "0.0.25-nightly.20260607.1";

    static FleetBeds fleet;

    @BeforeAll
    static void up() throws Exception {
        fleet = FleetBeds.up(1, SOAK, LEASE_TTL);
    }

    @AfterAll
    static void down() throws Exception {
        if (fleet != null) fleet.close();
    }

    @Test
    @Order(1)
    void aGoodNightlyGoesToTheCanaryHostFirstThenToOneHostAtATime() throws Exception {
        Instant from = Instant.now();
        int[] marks = fleet.marks();
        fleet.publish(V1, "good");
        fleet.hupAll();
        fleet.awaitEverywhere(marks, V1);

        for (Host h : fleet.others()) {
            assertTrue(h.daemon.since(marks[fleet.hosts.indexOf(h)]).stream().anyMatch(FleetBeds.hold("fleet-waves")),
                    h.id + " waited for the canary host (hold:fleet-waves)\n" + h.daemon.tail());
        }
        Map<Host, Slot> slots = slots(from);
        assertNeverMoreInsideThan(fleet.maxConcurrentHosts, slots);
        Slot canary = slots.get(fleet.canary());
        Instant promoted = fleet.promotedAt(V1, fleet.canary().id).orElseThrow(() -> new AssertionError("no promotion of " + V1 + " by the canary host in etcd"));
        for (Host h : fleet.others()) {
            Slot s = slots.get(h);
            assertTrue(s.took().isAfter(canary.released()), h.id + " took its slot (" + s.took() + ") after the canary host released its own (" + canary.released() + ")");
            assertFalse(s.took().isBefore(promoted.plus(SOAK)),
                    h.id + " started " + V1 + " at " + s.took() + ", before the canary host's promotion (" + promoted + ") plus the soak (" + SOAK + ")");
        }
        for (Host h : fleet.hosts) {
            // The first step that changes what the user runs happens inside the slot, never outside it.
            Event activate = first(h, from, "activate").orElseThrow(() -> new AssertionError(h.id + " never activated " + V1));
            Slot s = slots.get(h);
            assertTrue(activate.at().isAfter(s.took()) && activate.at().isBefore(s.released()),
                    h.id + " activated " + V1 + " at " + activate.at() + ", outside its slot " + s);
        }
        List<SlotHistory.Step> history = assertHistoryWithinMax();
        assertEquals(List.of(fleet.canary().id), history.stream().filter(st -> !st.holders().isEmpty()).findFirst().orElseThrow().holders(),
                "etcd's first slot holder is the canary host: " + history);
    }

    @Test
    @Order(2)
    void aControllerKilledHoldingTheSlotFreesItAfterTheLeaseTtlAndTheNextHostProceeds() throws Exception {
        Instant from = Instant.now();
        long fromRevision = fleet.operator.facts().revision();
        int[] marks = fleet.marks();
        fleet.publish(V2, "good");
        fleet.hupAll();
        fleet.canary().daemon.await(marks[0], FleetBeds.step("record-promotion", V2, "ok"), FleetBeds.WAIT, "the canary host records promoting " + V2);
        // After the soak both other hosts want the slot; whoever gets it is SIGKILLed holding it.
        FleetFacts held = fleet.awaitFacts(f -> f.slotHolders().stream().anyMatch(s -> !s.host().equals(fleet.canary().id)),
                "a non-canary host takes the slot for " + V2);
        String victimId = held.slotHolders().get(0).host();
        Host victim = fleet.hosts.stream().filter(h -> h.id.equals(victimId)).findFirst().orElseThrow();
        Host next = fleet.others().stream().filter(h -> h != victim).findFirst().orElseThrow();
        Instant killed = Instant.now();
        victim.kill();
        assertTrue(victim.events().stream().noneMatch(e -> FleetBeds.releasedSlot(e) && e.at().isAfter(from)), victimId + " was killed inside its rollout, before releasing the slot");

        int nextMark = marks[fleet.hosts.indexOf(next)];
        next.daemon.await(nextMark, FleetBeds.tookSlot(), FleetBeds.WAIT, next.id + " takes the slot after the dead host's lease ran out");
        Event nextTook = next.events().stream().filter(e -> FleetBeds.tookSlot(e) && e.at().isAfter(from)).findFirst().orElseThrow(() -> new AssertionError(next.id + " has no take-slot event for " + V2));
        assertTrue(nextTook.at().isAfter(killed), next.id + " took the slot (" + nextTook.at() + ") after the kill (" + killed + ")");
        // etcd, not a clock: the dead host's key went (its lease ran out, no one released it) before the next host's came.
        List<SlotHistory.Step> since = assertHistoryWithinMax().stream().filter(st -> st.revision() > fromRevision).toList();
        int came = indexWhere(since, st -> st.holders().contains(next.id), 0);
        assertTrue(came > 0 && since.get(came - 1).holders().isEmpty() && since.subList(0, came).stream().anyMatch(st -> st.holders().equals(List.of(victimId))),
                "the dead host held the slot, its key vanished, then the next host's appeared: " + since);

        // The killed controller comes back mid-rollout and finishes it, after the next host, without a second slot.
        victim.start();
        marks[fleet.hosts.indexOf(victim)] = 0;
        fleet.awaitEverywhere(marks, V2);
        assertHistoryWithinMax();
    }

    @Test
    @Order(3)
    void oneEtcdMemberLostChangesNothingTwoLostHoldWithAClearReasonUntilTheyReturn() throws Exception {
        int first = fleet.etcd.follower();
        fleet.etcd.kill(first);
        int[] marks = fleet.marks();
        fleet.publish(V3, "good");
        fleet.hupAll();
        fleet.awaitEverywhere(marks, V3);
        for (Host h : fleet.hosts) {
            assertTrue(h.daemon.since(marks[fleet.hosts.indexOf(h)]).stream().noneMatch(FleetBeds.hold("fleet-unavailable")),
                    h.id + " never found etcd unavailable with two of three members up\n" + h.daemon.tail());
        }
        assertHistoryWithinMax();

        int second = (first + 1) % 3;
        fleet.etcd.kill(second);
        marks = fleet.marks();
        Instant from = Instant.now();
        fleet.publish(V4, "good");
        fleet.hupAll();
        for (Host h : fleet.hosts) {
            JsonNode hold = h.awaitHold(marks[fleet.hosts.indexOf(h)], "fleet-unavailable");
            assertTrue(hold.path("reason").asText().toLowerCase(Locale.ROOT).contains("quorum"), h.id + ": the hold names the lost quorum: " + hold);
            assertEquals(V3, h.installed(), h.id + " stays on " + V3 + " without a quorum");
            assertTrue(first(h, from, "take-slot").isEmpty(), h.id + " took no slot without a quorum");
            assertTrue(h.events().stream().anyMatch(e -> e.action().equals("hold:fleet-unavailable") && !e.at().isBefore(from)),
                    h.id + "'s event log says why it holds");
        }
        // What the operator sees: a host's 'status --json' and 'fleet status --json' say why.
        CapturedCli status = CapturedCli.run("status", "--json", "-f", fleet.canary().bed.spec.toString());
        assertEquals("NO_QUORUM", DaemonProcess.JSON.readTree(status.out()).path("fleet").path("etcd").asText(), "status --json: " + status.out() + status.err());
        CapturedCli fleetStatus = CapturedCli.run("fleet", "status", "--json", "-f", fleet.canary().bed.spec.toString());
        assertEquals("NO_QUORUM", DaemonProcess.JSON.readTree(fleetStatus.out()).path("etcd").path("health").asText(), "fleet status --json: " + fleetStatus.out() + fleetStatus.err());
        fleet.etcd.restart(first);
        fleet.etcd.restart(second);
        fleet.awaitEverywhere(marks, V4);
        assertHistoryWithinMax();
    }

    @Test
    @Order(4)
    void aFleetFreezeStopsEveryHostAtTheNextStepBoundaryAndUnfreezeResumes() throws Exception {
        // The canary host is held inside a step: the slow-install build's preinstall waits while the hold file exists.
        Path rec = RegistryBed.recordDir(V5);
        Path hold = Files.createFile(rec.resolve("hold"));
        int[] marks = fleet.marks();
        Host canary = fleet.canary();
        int[] before, after;
        try {
            fleet.publish(V5, "slow-install");
            fleet.hupAll();
            awaitPreinstall(rec, canary);
            assertTrue(StateWatch.journal(canary.bed.stateDb(), "install").isPresent(), "the canary host's journal has its install in flight");
            before = fleet.marks();
            fleet.cli("fleet", "freeze", "--reason", "freeze while the canary host installs");
            after = fleet.marks();
            for (Host h : fleet.others()) {
                int i = fleet.hosts.indexOf(h);
                int at = h.daemon.awaitIndex(before[i], FleetBeds.hold("fleet-frozen"), FleetBeds.WAIT, h.id + " holds at the fleet freeze");
                assertEquals(List.of(), stepsBetween(h, after[i], at), h.id + " takes no step before holding");
            }
        } finally {
            Files.deleteIfExists(hold);
        }
        // The step in flight ends; the next one does not start.
        int at = canary.daemon.awaitIndex(before[0], FleetBeds.hold("fleet-frozen"), FleetBeds.WAIT, "the canary host holds at the fleet freeze");
        assertEquals(List.of("install"), stepsBetween(canary, after[0], at), "the canary host finished the step in flight (its install), then held");
        assertTrue(canary.daemon.since(marks[0]).stream().noneMatch(FleetBeds.step("health-check", null, null)), "no step after the install\n" + canary.daemon.tail());
        // Frozen means frozen: a pass asked for now does nothing anywhere.
        int[] hup = fleet.marks();
        fleet.hupAll();
        for (Host h : fleet.hosts) {
            int i = fleet.hosts.indexOf(h);
            int pass = h.daemon.awaitIndex(hup[i], DaemonProcess.ev("reconcile").and(n -> n.path("trigger").asText().contains("SIGHUP")), FleetBeds.WAIT, h.id + " runs the SIGHUP pass");
            int end = h.daemon.awaitIndex(pass, DaemonProcess.ev("reconciled"), FleetBeds.WAIT, h.id + " ends the SIGHUP pass");
            JsonNode done = h.daemon.since(end).get(0);
            assertEquals("held", done.path("outcome").asText(), h.id + " holds while the fleet is frozen: " + done);
            assertTrue(h.daemon.since(pass).stream().limit(end - pass).noneMatch(DaemonProcess.ev("step")), h.id + " takes no step while frozen\n" + h.daemon.tail());
        }

        fleet.cli("fleet", "unfreeze");
        fleet.awaitEverywhere(marks, V5);
        assertHistoryWithinMax();
    }

    @Test
    @Order(5)
    void aBuildThatFailsOnTheCanaryHostIsBlockedForTheFleetAndNeverReachesTheOthers() throws Exception {
        Map<Host, Map<String, String>> before = new LinkedHashMap<>();
        for (Host h : fleet.others()) before.put(h, fingerprint(h));
        Instant from = Instant.now();
        int[] marks = fleet.marks();
        // Passes the health check (run by hand), crashes under systemd: only the canary user catches it.
        fleet.publish(BAD, "crash-under-systemd");
        fleet.hupAll();
        Host canary = fleet.canary();
        canary.awaitStep(marks[0], "canary", BAD, "failed");
        canary.awaitStep(marks[0], "block-for-fleet", null, "ok");
        FleetFacts facts = fleet.awaitFacts(f -> f.isBlocked(BAD), "the fleet verdict on " + BAD);
        Verdict v = facts.verdicts().get(BAD);
        assertEquals(canary.id, v.host(), "the verdict names where it failed: " + v);
        String fleetStatus = fleet.cli("fleet", "status", "--json");
        JsonNode blocked = DaemonProcess.JSON.readTree(fleetStatus).path("blocked");
        assertTrue(blocked.size() == 1 && blocked.get(0).path("version").asText().equals(BAD) && blocked.get(0).path("host").asText().equals(canary.id),
                "fleet status --json lists the verdict: " + fleetStatus);
        canary.awaitStep(marks[0], "finish-rollback", null, "ok");
        assertEquals(V5, canary.installed(), "the canary host is rolled back");

        for (Host h : fleet.others()) {
            int i = fleet.hosts.indexOf(h);
            JsonNode hold = h.awaitHold(marks[i], "fleet-blocked");
            assertTrue(hold.path("reason").asText().contains(BAD), h.id + ": the hold names the blocked build: " + hold);
            assertTrue(first(h, from, "take-slot").isEmpty(), h.id + " never took a slot for " + BAD);
            assertFalse(Files.exists(h.bed.dir.resolve("versions/" + BAD)), h.id + " never installed " + BAD);
            assertEquals(before.get(h), fingerprint(h), h.id + "'s user database and installed link are byte-identical before and after");
        }
    }

    /** The steps a host logged from index {@code from} up to (not including) {@code to}. */
    static List<String> stepsBetween(Host h, int from, int to) {
        return h.daemon.since(from).stream().limit(Math.max(0, to - from)).filter(DaemonProcess.ev("step")).map(n -> n.path("action").asText()).toList();
    }

    /** Until the slow-install build's preinstall recorded itself (npm is running it): an inotify watch on the directory. */
    static void awaitPreinstall(Path rec, Host h) throws Exception {
        long deadline = System.nanoTime() + FleetBeds.WAIT.toNanos();
        try (WatchService ws = rec.getFileSystem().newWatchService()) {
            rec.register(ws, StandardWatchEventKinds.ENTRY_CREATE);
            while (!preinstallRecorded(rec)) {
                if (!h.daemon.process.isAlive()) fail(h.id + "'s daemon exited\n" + h.daemon.tail());
                long left = deadline - System.nanoTime();
                if (left <= 0) fail(h.id + " never ran the slow build's preinstall\n" + h.daemon.tail());
                WatchKey k = ws.poll(left, TimeUnit.NANOSECONDS);
                if (k != null) {
                    k.pollEvents();
                    k.reset();
                }
            }
        }
    }

    private static boolean preinstallRecorded(Path rec) throws java.io.IOException {
        try (var files = Files.list(rec)) {
            return files.anyMatch(f -> f.getFileName().toString().startsWith("preinstall."));
        }
    }

    // -- what the event logs say

    /** One host's time inside a rollout: from its take-slot event to its release-slot event. */
    record Slot(Instant took, Instant released) {}

    /** Each host's (single) slot since {@code from}, from its own event log. */
    static Map<Host, Slot> slots(Instant from) {
        Map<Host, Slot> out = new LinkedHashMap<>();
        for (Host h : fleet.hosts) {
            List<Event> events = h.events();
            Event took = events.stream().filter(e -> FleetBeds.tookSlot(e) && !e.at().isBefore(from)).findFirst()
                    .orElseThrow(() -> new AssertionError(h.id + " has no take-slot event since " + from + " that took a slot: " + events));
            Event released = events.stream().filter(e -> FleetBeds.releasedSlot(e) && e.at().isAfter(took.at())).findFirst()
                    .orElseThrow(() -> new AssertionError(h.id + " has no release-slot event after " + took.at() + ": " + events));
            out.put(h, new Slot(took.at(), released.at()));
        }
        return out;
    }

    /** Sweeps the hosts' slot intervals in time order (a take at the same instant as a release counts as overlapping). */
    static void assertNeverMoreInsideThan(int max, Map<Host, Slot> slots) {
        TreeMap<Instant, Integer> delta = new TreeMap<>();
        slots.values().forEach(s -> {
            delta.merge(s.took(), 1, Integer::sum);
            delta.merge(s.released(), -1, Integer::sum);
        });
        int inside = 0;
        for (Map.Entry<Instant, Integer> e : delta.entrySet()) {
            // Same instant: count the takes before the releases.
            int takes = (int) slots.values().stream().filter(s -> s.took().equals(e.getKey())).count();
            assertTrue(inside + takes <= max, "more than " + max + " host(s) between take-slot and release-slot at " + e.getKey() + ": " + slots);
            inside += e.getValue();
        }
    }

    static Optional<Event> first(Host h, Instant from, String action) {
        return h.events().stream().filter(e -> e.action().equals(action) && e.outcome().equals("ok") && !e.at().isBefore(from)).findFirst();
    }

    /** etcd's whole history of the group's slot keys never had more holders than the maximum at any revision. */
    static List<SlotHistory.Step> assertHistoryWithinMax() throws Exception {
        List<SlotHistory.Step> history = fleet.slotHistory();
        assertFalse(history.isEmpty(), "etcd has a history of slots");
        for (SlotHistory.Step st : history) {
            assertTrue(st.holders().size() <= fleet.maxConcurrentHosts, "more than " + fleet.maxConcurrentHosts + " slot holder(s) at revision " + st.revision() + ": " + history);
        }
        return history;
    }

    static int indexWhere(List<SlotHistory.Step> h, java.util.function.Predicate<SlotHistory.Step> p, int from) {
        for (int i = Math.max(0, from); i < h.size(); i++) if (p.test(h.get(i))) return i;
        return -1;
    }

    /** SHA-256 of the user's database files and the installed link's target: what a host that did nothing keeps. */
    static Map<String, String> fingerprint(Host h) throws Exception {
        Map<String, String> out = new TreeMap<>();
        Path db = h.bed.database(h.user);
        // The database and its write-ahead log: the data. Not -shm, the WAL's shared-memory index, where every reader
        // (the controller looking at the schema) writes its read mark.
        for (String name : List.of(db.getFileName().toString(), db.getFileName() + "-wal")) {
            Path f = db.resolveSibling(name);
            if (Files.exists(f)) out.put(name, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f))));
        }
        assertTrue(out.containsKey(db.getFileName().toString()), h.id + "'s database exists: " + out);
        out.put("link", Files.readSymbolicLink(h.bed.link()).toString());
        return out;
    }
}
