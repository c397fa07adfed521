package t3.reconciler.controller.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.fake.FakeActuators;
import t3.reconciler.controller.fake.FakeEtcd;
import t3.reconciler.controller.fake.FakeFleet;
import t3.reconciler.controller.fake.FakeSpec;
import t3.reconciler.controller.fake.StepClock;
import t3.reconciler.controller.log.Log;
import t3.reconciler.model.DesiredState;

/** The fleet port follows {@code fleet:}: opened with it, kept while it is unchanged, reopened (the old one closed) on an edit, closed when removed. */
class LiveActuatorsFleetTest {
    @TempDir Path dir;

    @Test
    void thePortIsReopenedOnlyWhenTheFleetSectionChanges() throws Exception {
        StepClock clock = new StepClock(Instant.parse("2026-06-08T04:00:00Z"));
        FakeActuators fx = new FakeActuators(dir, FakeSpec.UNIT, clock);
        FakeEtcd etcd = new FakeEtcd(clock);
        List<FakeFleet> opened = new ArrayList<>();
        LiveActuators live = new LiveActuators(s -> fx.actuators(), f -> {
            FakeFleet p = fx.fleet(etcd, f.hostId().orElseThrow(), f.maxConcurrentHosts());
            opened.add(p);
            return p;
        }, Log.toStderr(Clock.systemUTC()));

        DesiredState alone = FakeSpec.write(dir, List.of("alice"), "");
        DesiredState one = FakeSpec.write(dir, List.of("alice"), "fleet: {endpoints: ['http://127.0.0.1:2379'], hostId: h1}\n");
        DesiredState two = FakeSpec.write(dir, List.of("alice"), "fleet: {endpoints: ['http://127.0.0.1:2379'], hostId: h1, maxConcurrentHosts: 2}\n");

        assertEquals(Optional.empty(), live.forSpec(alone).fleet());
        Actuators first = live.forSpec(one);
        assertEquals(1, opened.size());
        assertSame(opened.get(0), first.fleet().orElseThrow());
        assertSame(first, live.forSpec(one), "unchanged: the same actuators, so the loop keeps its parts");

        // A slot under the first port's lease goes when that port is closed (its lease revoked).
        opened.get(0).lock();
        Actuators second = live.forSpec(two);
        assertEquals(2, opened.size());
        assertSame(opened.get(1), second.fleet().orElseThrow());
        assertEquals(List.of(), etcd.holders(), "the old port was closed");

        opened.get(1).lock();
        assertEquals(Optional.empty(), live.forSpec(alone).fleet());
        assertEquals(List.of(), etcd.holders(), "removing fleet: closes the port");
        live.close();
        assertTrue(live.fleet().isEmpty());
    }
}
