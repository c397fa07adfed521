package t3.reconciler.controller.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import t3.reconciler.model.fleet.EtcdHealth;
import t3.reconciler.model.fleet.FleetFacts;
import t3.reconciler.model.fleet.HostStatus;
import t3.reconciler.model.fleet.SlotHolder;
import t3.reconciler.model.DesiredState;

/** {@code fleet status}'s rendering of facts, without etcd (FleetCliIT reads the same from a real cluster). */
class FleetStatusViewTest {
    static final Instant NOW = Instant.parse("2026-06-08T04:00:00Z");
    static final DesiredState.Fleet SPEC = new DesiredState.Fleet(List.of(URI.create("http://10.0.0.1:2379")), Optional.empty(), "web", Optional.of("vm-2"),
            2, List.of("vm-1"), Duration.ofHours(1), Duration.ofSeconds(30));

    static String human(FleetFacts f) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        FleetStatusView.human(f, SPEC, NOW, new PrintStream(o, true, StandardCharsets.UTF_8));
        return o.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aSlotHeldByAHostThatPublishesNothingIsNamedAndAgesAreCoarse() {
        var vm1 = new HostStatus("vm-1", Optional.of("0.0.26"), Optional.of("0.0.26"), Map.of("alice", "0.0.26"), "closed", "idle", NOW.minusSeconds(3));
        var vm2 = new HostStatus("vm-2", Optional.of("0.0.25"), Optional.of("0.0.25"), Map.of(), "closed", "rolling-out", NOW.minus(Duration.ofMinutes(7)));
        var facts = new FleetFacts(EtcdHealth.QUORUM, "", 42, "vm-2", 2,
                List.of(new SlotHolder("vm-2", NOW.minus(Duration.ofHours(3)), 7), new SlotHolder("vm-9", NOW.minusSeconds(20), 8)),
                false, false, Map.of(), Optional.empty(), Map.of("0.0.26", Map.of("vm-1", NOW.minus(Duration.ofDays(2)))), Map.of("vm-1", vm1, "vm-2", vm2));
        String out = human(facts);
        assertTrue(out.contains("Slots:      2 of 2 held, 0 free: vm-2 since 2026-06-08T01:00:00Z (3h ago), vm-9 since 2026-06-08T03:59:40Z (20s ago)"), out);
        assertTrue(out.contains("holding a slot with no status (dead until its lease ends, or not a controller): vm-9"), out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("  vm-1 (canary) ") && l.contains(" 3s ago ") && l.endsWith(" -    idle")), out);
        assertTrue(out.contains("      users: alice 0.0.26\n"), out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("  vm-2 * ") && l.endsWith(" yes  rolling-out") && l.contains(" 7m ago ")), out);
        assertTrue(out.contains("  0.0.26: vm-1 (canary) at 2026-06-06T04:00:00Z"), out);
        assertTrue(out.contains("Blocked:    none"), out);

        Map<String, Object> json = FleetStatusView.json(facts, SPEC, NOW);
        assertEquals(0, json.get("slotsFree"));
        assertEquals(10800L, ((List<Map<String, Object>>) json.get("slotHolders")).get(0).get("heldSeconds"));
        assertEquals(List.of("vm-1", "vm-2"), ((List<Map<String, Object>>) json.get("hosts")).stream().map(h -> h.get("host")).toList());
    }

    @Test
    void withoutQuorumNothingButTheReasonIsShown() {
        var facts = new FleetFacts(EtcdHealth.NO_QUORUM, "http://10.0.0.1:2379: no leader", 0, "vm-2", 2, List.of(), false, false, Map.of(), Optional.empty(), Map.of(), Map.of());
        String out = human(facts);
        assertTrue(out.contains("etcd:       NO_QUORUM: http://10.0.0.1:2379: no leader"), out);
        assertFalse(out.contains("Slots:"), "an unread fleet is not an empty one: " + out);
        Map<String, Object> json = FleetStatusView.json(facts, SPEC, NOW);
        assertFalse(json.containsKey("slotHolders"), "no empty lists that read as 'nothing held'");
        assertEquals("NO_QUORUM", ((Map<?, ?>) json.get("etcd")).get("health"));
    }
}
