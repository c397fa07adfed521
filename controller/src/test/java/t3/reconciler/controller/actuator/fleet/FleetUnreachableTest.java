package t3.reconciler.controller.actuator.fleet;

import t3.reconciler.model.fleet.FleetFacts;
import t3.reconciler.model.fleet.EtcdHealth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** No etcd at all (a loopback port nobody listens on): the facts say unreachable, nothing throws from a read, a lock fails. */
class FleetUnreachableTest {
    @Test
    void factsSayUnreachableAndNoSlotIsTaken() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        try (Hosts hosts = new Hosts(List.of(URI.create("http://127.0.0.1:" + port)), "g")) {
            Fleet f = hosts.host("a", 1, Duration.ofSeconds(30));
            FleetFacts facts = f.facts();
            assertEquals(EtcdHealth.UNREACHABLE, facts.etcd());
            assertTrue(facts.etcdDetail().contains("127.0.0.1:" + port), facts.etcdDetail());
            assertEquals(0, facts.slotsFree());
            assertThrows(EtcdException.class, f::lock);
        }
    }
}
