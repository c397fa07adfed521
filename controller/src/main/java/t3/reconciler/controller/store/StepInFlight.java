package t3.reconciler.controller.store;

/** The step being executed ({@code Action.name()} and its target), kept until it returns: a crash outside its journaled part is still reported. */
public record StepInFlight(String action, String target) {}
