package t3.reconciler.controller.actuator.fleet;

/** Something that says "look again": registered with the loop as one more trigger source. */
public interface ChangeSource {
    /** {@code listener} runs (on the source's thread; it must be quick, e.g. a trigger's {@code fire()}) after each change. */
    void onChange(Runnable listener);
}
