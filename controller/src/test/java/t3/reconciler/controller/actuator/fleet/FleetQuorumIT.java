package t3.reconciler.controller.actuator.fleet;

import t3.reconciler.model.fleet.FleetFacts;
import t3.reconciler.model.fleet.EtcdHealth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.testbed.EtcdCluster;

/** Three real etcd members on loopback: one lost changes nothing; two lost, and the facts say no quorum and no slot is taken. */
class FleetQuorumIT {
    @TempDir
    Path dir;

    @Test
    void losingOneMemberChangesNothingAndLosingTwoHoldsWithAClearReason() throws Exception {
        try (EtcdCluster etcd = EtcdCluster.start(dir, 3); Hosts hosts = new Hosts(etcd.endpoints(), "quorum")) {
            Fleet a = hosts.host("a", 1, Duration.ofSeconds(30));
            Fleet b = hosts.host("b", 1, Duration.ofSeconds(30));
            assertEquals(EtcdHealth.QUORUM, a.facts().etcd());

            // A follower: losing the leader costs an election first, during which no read is linearizable (NO_QUORUM).
            int gone = etcd.follower();
            etcd.kill(gone);
            int second = (gone + 1) % 3, last = 3 - gone - second;
            assertEquals(EtcdHealth.QUORUM, a.facts().etcd(), "two of three members are a quorum");
            assertEquals(new SlotResult.Taken(false), a.lock());
            assertInstanceOf(SlotResult.Full.class, b.lock());
            Hosts.Changes changes = new Hosts.Changes(b.changes());
            assertEquals(new SlotResult.Released(), a.unlock());
            changes.until(() -> b.facts().slotsFree() == 1, Duration.ofSeconds(20), "b's watch to see the release");
            changes.drain();

            etcd.kill(second);
            changes.next(Duration.ofSeconds(20), "the watch reports losing the quorum");
            FleetFacts cut = b.facts();
            assertEquals(EtcdHealth.NO_QUORUM, cut.etcd(), cut.etcdDetail());
            assertTrue(cut.etcdDetail().contains(etcd.endpoint(last).toString()), cut.etcdDetail());
            assertEquals(0, cut.slotsFree(), "without a read, no slot counts as free");
            assertThrows(EtcdException.class, b::lock, "no slot is taken without a quorum");

            etcd.restart(second);
            // The restarted member rejoins and a leader is elected; each read blocks in etcd until it can be served
            // or times out, so this bounded retry waits on etcd, not on a clock.
            FleetFacts back = b.facts();
            for (int i = 0; i < 10 && back.etcd() != EtcdHealth.QUORUM; i++) back = b.facts();
            assertEquals(EtcdHealth.QUORUM, back.etcd(), back.etcdDetail());
            assertEquals(new SlotResult.Taken(false), b.lock());

            etcd.kill(second);
            etcd.kill(last);
            assertEquals(EtcdHealth.UNREACHABLE, a.facts().etcd(), "no member answers");
        }
    }
}
