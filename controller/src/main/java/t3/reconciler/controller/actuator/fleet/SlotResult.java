package t3.reconciler.controller.actuator.fleet;

import t3.reconciler.model.fleet.SlotHolder;

import java.util.List;

/** What a lock or unlock of a rollout slot came to. Typed: the planner and the CLI branch on the kind, not on text. */
public sealed interface SlotResult {
    /** The caller holds a slot now; {@code already}: it held it before the call (FleetLock's recursive lock). */
    record Taken(boolean already) implements SlotResult {}

    /** Every slot is held by someone else. */
    record Full(List<SlotHolder> holders, int max) implements SlotResult {
        public Full {
            holders = List.copyOf(holders);
        }
    }

    record Released() implements SlotResult {}

    /** The caller held no slot: nothing to release (an unlock is idempotent). */
    record NotHeld() implements SlotResult {}

    /** The slot named belongs to another host's lease: only that host, or an operator's {@code fleet unlock}, frees it. */
    record Refused(String holder) implements SlotResult {}
}
