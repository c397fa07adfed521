package t3.reconciler.controller.plan;

/** The planner's answer: one action and the human sentence that justifies it (logged and recorded as is). */
public record Decision(Action action, String reason) {}
