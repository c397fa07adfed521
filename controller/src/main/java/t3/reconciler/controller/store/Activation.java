package t3.reconciler.controller.store;

import java.time.Instant;
import t3.reconciler.model.Version;

/** The global link was switched to {@code version} at {@code at}: a unit started after that runs it. */
public record Activation(Version version, Instant at) {}
