package t3.reconciler.controller.store;

import java.util.Optional;
import t3.reconciler.controller.plan.Gate;

/** The decision that ended the last pass (converged, or a hold and its gate), kept so a hold is recorded once per change of reason. */
public record LastDecision(String action, Optional<Gate> gate, String reason) {}
