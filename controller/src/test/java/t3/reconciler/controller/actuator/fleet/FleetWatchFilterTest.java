package t3.reconciler.controller.actuator.fleet;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The loop is woken by what may change a decision, never by another host's status write (a wake-up storm). */
class FleetWatchFilterTest {
    final Keys keys = new Keys("eu");

    @Test
    void statusWritesAloneDoNotWakeTheLoop() {
        assertFalse(FleetWatch.wakes(keys, List.of(keys.status("h2"))));
        assertFalse(FleetWatch.wakes(keys, List.of(keys.status("h2"), keys.status("h3"))));
    }

    @Test
    void slotsVerdictsTheFreezeAndPromotionsDo() {
        assertTrue(FleetWatch.wakes(keys, List.of(keys.slot("h2"))));
        assertTrue(FleetWatch.wakes(keys, List.of(keys.verdict("1.2.3"))));
        assertTrue(FleetWatch.wakes(keys, List.of(keys.freeze())));
        assertTrue(FleetWatch.wakes(keys, List.of(keys.promotion("1.2.3", "h1"))));
        // A lease that ends deletes a host's slot and status in one revision: the slot wakes the others.
        assertTrue(FleetWatch.wakes(keys, List.of(keys.status("h2"), keys.slot("h2"))));
    }
}
