package t3.reconciler.model.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class WavesTest {
    private static final Instant T = Instant.parse("2026-11-29T03:00:00Z");
    private static final Duration SOAK = Duration.ofHours(1);

    private static FleetFacts facts(String self, Map<String, Map<String, Instant>> promotions) {
        return new FleetFacts(EtcdHealth.QUORUM, "", 7, self, 1, List.of(), false, false, Map.of(), Optional.empty(), promotions, Map.of());
    }

    @Test
    void withoutCanaryHostsEveryHostGoes() {
        assertEquals(new Waves.Go(), Waves.gate(facts("x", Map.of()), List.of(), SOAK, "1.0.0", T));
    }

    @Test
    void aCanaryHostGoesAtOnce() {
        assertEquals(new Waves.Go(), Waves.gate(facts("c1", Map.of()), List.of("c1", "c2"), SOAK, "1.0.0", T));
    }

    @Test
    void othersWaitForEveryCanaryThenForTheSoakOfTheLastOne() {
        List<String> canaries = List.of("c1", "c2");
        assertEquals(new Waves.AwaitingCanaries(List.of("c1", "c2")), Waves.gate(facts("x", Map.of()), canaries, SOAK, "1.0.0", T));
        var one = facts("x", Map.of("1.0.0", Map.of("c1", T)));
        assertEquals(new Waves.AwaitingCanaries(List.of("c2")), Waves.gate(one, canaries, SOAK, "1.0.0", T.plus(SOAK)));
        var both = facts("x", Map.of("1.0.0", Map.of("c1", T, "c2", T.plusSeconds(600))));
        assertEquals(new Waves.Soaking(T.plusSeconds(600).plus(SOAK)), Waves.gate(both, canaries, SOAK, "1.0.0", T.plus(SOAK)));
        assertEquals(new Waves.Go(), Waves.gate(both, canaries, SOAK, "1.0.0", T.plusSeconds(600).plus(SOAK)));
        assertEquals(new Waves.AwaitingCanaries(List.of("c1", "c2")), Waves.gate(both, canaries, SOAK, "1.0.1", T.plus(Duration.ofDays(1))),
                "a promotion counts for its own version only");
    }
}
