package t3.reconciler.controller.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.model.fleet.EtcdHealth;
import t3.reconciler.controller.actuator.fleet.Fleet;
import t3.reconciler.model.fleet.HostStatus;
import t3.reconciler.controller.actuator.fleet.SlotResult;
import t3.reconciler.controller.cli.CliTest.Run;
import t3.reconciler.controller.fake.FakeSpec;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.DesiredState;
import t3.reconciler.controller.testbed.EtcdCluster;

/**
 * The {@code fleet} commands against a real 3-member etcd on loopback. The other hosts of the group are {@link Fleet}s
 * in this test, each with its own client and lease, as separate controllers would be; what they write goes through
 * the actuator, what the CLI wrote is read back through it. Each test has a group of its own; the one that takes
 * two members down runs last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FleetCliIT {
    private static final Log LOG = new Log(System.out, Log.Format.JSON, Clock.systemUTC());
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static EtcdCluster etcd;
    private final List<Fleet> opened = new ArrayList<>();

    @BeforeAll
    static void startEtcd() throws Exception {
        etcd = EtcdCluster.start(dir.resolve("etcd"), 3);
    }

    @AfterAll
    static void stopEtcd() throws Exception {
        if (etcd != null) etcd.close();
    }

    @AfterEach
    void closeHosts() {
        opened.forEach(Fleet::close);
    }

    /** Another controller of {@code group}. */
    private Fleet host(String group, String id) throws Exception {
        var spec = new DesiredState.Fleet(etcd.endpoints(), Optional.empty(), group, Optional.of(id), 2, List.of("host-a"), Duration.ofHours(1), Duration.ofSeconds(30));
        Fleet f = new Fleet(spec, id, Clock.systemUTC(), LOG);
        opened.add(f);
        return f;
    }

    /** This host's desired state: a fleet: section for {@code group} over {@code endpoints}. */
    private static DesiredState spec(String group, List<URI> endpoints) throws Exception {
        Path d = Files.createDirectories(dir.resolve("spec-" + group));
        return FakeSpec.write(d, List.of("alice"), "fleet:\n  endpoints: [" + endpoints.stream().map(URI::toString).collect(Collectors.joining(", "))
                + "]\n  group: " + group + "\n  hostId: cli-host\n  maxConcurrentHosts: 2\n  canaryHosts: [host-a]\n");
    }

    private static Run fleet(DesiredState s, String... args) {
        List<String> a = new ArrayList<>(List.of("fleet"));
        a.addAll(List.of(args));
        a.addAll(List.of("-f", s.source().toString()));
        return CliTest.run(a.toArray(String[]::new));
    }

    private static String lastEvent(DesiredState s) {
        try (StateStore store = StateStore.open(s.controller().stateDb())) {
            var e = store.events(Optional.empty(), 1).get(0);
            return e.action() + " " + e.target() + " [" + e.outcome() + "] " + e.reason();
        }
    }

    @Test
    @Order(1)
    void statusShowsHoldersVerdictsFreezeAndHostsFromOneRead() throws Exception {
        DesiredState s = spec("status", etcd.endpoints());
        Fleet a = host("status", "host-a"), b = host("status", "host-b");
        assertEquals(new SlotResult.Taken(false), a.lock());
        a.records.publish(new HostStatus("host-a", Optional.of("0.0.26"), Optional.of("0.0.25"), Map.of("alice", "0.0.26"), "closed", "rolling-out", Instant.now()));
        b.records.publish(new HostStatus("host-b", Optional.of("0.0.25"), Optional.of("0.0.25"), Map.of(), "open", "idle", Instant.now()));
        b.records.block("0.0.27", "host-b", "health check failed: migration 42");
        a.records.promoted("0.0.26", "host-a");
        a.records.freeze("ops", "change freeze");

        Run json = fleet(s, "status", "--json");
        assertEquals(Main.OK, json.code(), json.err());
        JsonNode j = JSON.readTree(json.out());
        assertEquals("QUORUM", j.path("etcd").path("health").asText());
        assertEquals("cli-host", j.path("self").asText());
        assertEquals(1, j.path("slotHolders").size());
        assertEquals("host-a", j.path("slotHolders").get(0).path("host").asText());
        assertEquals(1, j.path("slotsFree").asInt());
        assertEquals("ops", j.path("freeze").path("by").asText());
        assertEquals("change freeze", j.path("freeze").path("reason").asText());
        assertEquals("0.0.27", j.path("blocked").get(0).path("version").asText());
        assertEquals("host-b", j.path("blocked").get(0).path("host").asText());
        assertEquals("health check failed: migration 42", j.path("blocked").get(0).path("reason").asText());
        assertEquals("0.0.26", j.path("promotions").get(0).path("version").asText());
        assertEquals("host-a", j.path("promotions").get(0).path("host").asText());
        JsonNode hostA = j.path("hosts").get(0), hostB = j.path("hosts").get(1);
        assertEquals("host-a", hostA.path("host").asText());
        assertEquals("0.0.26", hostA.path("installed").asText());
        assertEquals("0.0.26", hostA.path("users").path("alice").asText());
        assertEquals("rolling-out", hostA.path("phase").asText());
        assertTrue(hostA.path("holdsSlot").asBoolean());
        assertTrue(hostA.path("canary").asBoolean());
        assertEquals("open", hostB.path("breaker").asText());
        assertFalse(hostB.path("holdsSlot").asBoolean());

        Run human = fleet(s, "status");
        assertEquals(Main.OK, human.code(), human.err());
        assertTrue(human.out().contains("Slots:      1 of 2 held, 1 free: host-a since "), human.out());
        assertTrue(human.out().contains("Freeze:     frozen by ops at "), human.out());
        assertTrue(human.out().contains("0.0.27 failed on host-b at "), human.out());
        assertTrue(human.out().lines().anyMatch(l -> l.startsWith("  host-a (canary) ") && l.endsWith(" yes  rolling-out")), human.out());
        assertTrue(human.out().contains("      users: alice 0.0.26\n"), human.out());
    }

    @Test
    @Order(2)
    void unlockFreesTheSlotAnotherHostHolds() throws Exception {
        DesiredState s = spec("unlock", etcd.endpoints());
        Fleet b = host("unlock", "host-b"), c = host("unlock", "host-c"), d = host("unlock", "host-d");
        assertEquals(new SlotResult.Taken(false), b.lock());
        assertEquals(new SlotResult.Taken(false), c.lock());
        assertInstanceOf(SlotResult.Full.class, d.lock(), "max 2: the third host waits");

        Run r = fleet(s, "unlock", "host-b", "--reason", "host-b is gone");
        assertEquals(Main.OK, r.code(), r.err());
        assertEquals(List.of("host-c"), b.slots.holders().stream().map(h -> h.host()).toList());
        assertFalse(b.facts().selfHoldsSlot());
        assertEquals(new SlotResult.Taken(false), d.lock(), "the freed slot is the next host's");
        assertEquals("fleet-unlock host-b [ok] " + Args.who() + ": host-b is gone", lastEvent(s));

        Run again = fleet(s, "unlock", "host-b");
        assertEquals(Main.USAGE, again.code(), again.err());
        assertTrue(again.err().contains("host-b holds no rollout slot"), again.err());
        assertEquals(Main.USAGE, fleet(s, "unlock", "../slots").code(), "a host id is part of a key: no '/'");
    }

    @Test
    @Order(3)
    void freezeThenUnfreezeEveryHostSees() throws Exception {
        DesiredState s = spec("freeze", etcd.endpoints());
        Fleet other = host("freeze", "host-b");
        Run frozen = fleet(s, "freeze", "--reason", "incident 7");
        assertEquals(Main.OK, frozen.code(), frozen.err());
        var f = other.facts().freeze().orElseThrow();
        assertEquals(Args.who(), f.by());
        assertEquals("incident 7", f.reason());
        assertEquals("fleet-freeze freeze [ok] " + Args.who() + ": incident 7", lastEvent(s));

        // From a host with no controller state to record it in: the group is frozen all the same, and says so.
        Path state = s.controller().stateDb().getParent();
        Path moved = Files.move(state, state.resolveSibling("state.moved"));
        Files.writeString(state, "not a directory");
        Run unrecorded = fleet(s, "freeze", "--reason", "incident 8");
        Files.delete(state);
        Files.move(moved, state);
        assertEquals(Main.OK, unrecorded.code(), unrecorded.err());
        assertTrue(unrecorded.err().contains("done, but not recorded in " + s.controller().stateDb()), unrecorded.err());
        assertEquals("incident 8", other.facts().freeze().orElseThrow().reason());

        Run unfrozen = fleet(s, "unfreeze", "--reason", "over");
        assertEquals(Main.OK, unfrozen.code(), unfrozen.err());
        assertTrue(other.facts().freeze().isEmpty());
        assertTrue(unfrozen.out().contains("fleet unfrozen"), unfrozen.out());
        assertTrue(fleet(s, "unfreeze").out().contains("was not frozen"));
    }

    @Test
    @Order(4)
    void unblockDeletesTheVerdict() throws Exception {
        DesiredState s = spec("unblock", etcd.endpoints());
        Fleet other = host("unblock", "host-b");
        other.records.block("0.0.27", "host-b", "canary failed");
        other.records.block("0.0.28", "host-b", "canary failed");
        assertTrue(other.facts().isBlocked("0.0.27"));

        Run r = fleet(s, "unblock", "0.0.27", "--reason", "fixed upstream");
        assertEquals(Main.OK, r.code(), r.err());
        var facts = other.facts();
        assertFalse(facts.isBlocked("0.0.27"));
        assertTrue(facts.isBlocked("0.0.28"), "only the version named");
        assertEquals("fleet-unblock 0.0.27 [ok] " + Args.who() + ": fixed upstream", lastEvent(s));

        Run again = fleet(s, "unblock", "0.0.27");
        assertEquals(Main.USAGE, again.code(), again.err());
        assertTrue(again.err().contains("0.0.27 is not blocked for group unblock"), again.err());
    }

    @Test
    @Order(6)
    void statusWithNoEtcdListeningSaysWhyAndExitsOne() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        DesiredState s = spec("nobody", List.of(URI.create("http://127.0.0.1:" + port)));
        Run r = fleet(s, "status");
        assertEquals(Main.FAILED, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("etcd:       UNREACHABLE: "), r.out());
        assertTrue(r.out().contains("127.0.0.1:" + port), r.out());
        Run w = fleet(s, "freeze");
        assertEquals(Main.FAILED, w.code(), w.err());
        assertTrue(w.err().contains("did not take the request"), w.err());
    }

    @Test
    @Order(7)
    void statusWithTwoOfThreeMembersDownSaysNoQuorumAndExitsOne() throws Exception {
        DesiredState s = spec("quorum", etcd.endpoints());
        int first = etcd.follower();
        etcd.kill(first);
        // With one follower gone the cluster still has a quorum: the status still reads.
        assertEquals(Main.OK, fleet(s, "status").code());
        for (int i = 0; i < 3; i++) if (i != first) {
            etcd.kill(i);
            break;
        }
        Run r = fleet(s, "status", "--json");
        assertEquals(Main.FAILED, r.code(), r.out() + r.err());
        JsonNode j = JSON.readTree(r.out());
        assertEquals(EtcdHealth.NO_QUORUM.name(), j.path("etcd").path("health").asText());
        String why = j.path("etcd").path("detail").asText();
        assertFalse(why.isBlank());
        for (URI e : etcd.endpoints()) assertTrue(why.contains(e.toString()), "names every endpoint and what it answered: " + why);
    }
}
