package t3.reconciler.controller.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import t3.reconciler.model.BreakerState;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.DesiredStateLoader;
import t3.reconciler.model.ObservedState;
import t3.reconciler.model.Version;
import t3.reconciler.model.fleet.EtcdHealth;
import t3.reconciler.model.fleet.FleetFacts;
import t3.reconciler.model.fleet.FleetFreeze;
import t3.reconciler.model.fleet.SlotHolder;
import t3.reconciler.model.fleet.Verdict;

/** {@code status}'s fleet block: what it says with a quorum, and what it says when etcd does not answer. */
class StatusFleetTest {
    static final Instant NOW = Instant.parse("2026-06-08T04:00:00Z");
    static final Version A = Version.parse("0.0.25-nightly.20260601.1");

    static DesiredState spec(String fleet) throws Exception {
        return DesiredStateLoader.parse("users: [alice]\n" + fleet, Path.of("status-fleet.yaml"));
    }

    static ObservedState observed() {
        return new ObservedState(NOW, Optional.of(A), Set.of(A), Optional.of(A), ObservedState.Candidate.notAsked(), List.of(), Optional.empty(),
                BreakerState.closed(), Set.of(), Optional.empty(), false);
    }

    @Test
    void withoutFleetThereIsNoFleetBlock() throws Exception {
        assertEquals(Optional.empty(), StatusCommand.fleetLine(spec(""), observed()));
    }

    @Test
    void withAQuorumItNamesTheSlotHoldersVerdictsAndFreeze() throws Exception {
        var facts = new FleetFacts(EtcdHealth.QUORUM, "", 12, "h1", 1, List.of(new SlotHolder("h2", NOW, 5)), false, false,
                Map.of("1.2.3", new Verdict("1.2.3", "h3", "canary alice: 401", NOW)), Optional.of(new FleetFreeze("ops", "incident 7", NOW)), Map.of(), Map.of());
        String line = StatusCommand.fleetLine(spec("fleet: {endpoints: ['http://127.0.0.1:2379'], group: eu, hostId: h1}\n"),
                observed().withFleet(Optional.of(facts), Map.of())).orElseThrow();
        assertTrue(line.contains("group eu as h1, etcd quorum; slot not held (1/1 held by [h2])"), line);
        assertTrue(line.contains("1.2.3 (h3: canary alice: 401)"), line);
        assertTrue(line.contains("freeze: by ops since " + NOW + ": incident 7"), line);
        Map<String, Object> json = StatusCommand.fleetJson(facts);
        assertEquals("QUORUM", json.get("etcd"));
        assertEquals(false, json.get("slotHeld"));
    }

    @Test
    void anEtcdThatRefusesTheConnectionIsShownUnreachable() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        DesiredState s = spec("fleet: {endpoints: ['http://127.0.0.1:" + port + "'], hostId: h1}\n");
        ObservedState obs = FleetRead.into(s, observed());
        assertEquals(EtcdHealth.UNREACHABLE, obs.fleet().orElseThrow().etcd());
        String line = StatusCommand.fleetLine(s, obs).orElseThrow();
        assertTrue(line.contains("etcd unreachable: ") && line.contains("127.0.0.1:" + port), line);
    }
}
