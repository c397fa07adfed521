package t3.reconciler.controller.actuator;

/**
 * An actuator could not do what it was asked. {@code transientFault} marks faults worth retrying with backoff
 * (registry unreachable, bus dropped); the others are verdicts (a broken build, a unit that will not start).
 */
public class ActuatorException extends Exception {
    private final boolean transientFault;

    public ActuatorException(String message, boolean transientFault, Throwable cause) {
        super(message, cause);
        this.transientFault = transientFault;
    }

    public ActuatorException(String message, boolean transientFault) { this(message, transientFault, null); }

    public static ActuatorException verdict(String message) { return new ActuatorException(message, false); }

    public static ActuatorException transientFault(String message, Throwable cause) { return new ActuatorException(message, true, cause); }

    public boolean isTransient() { return transientFault; }
}
