package t3.reconciler.controller.actuator;

/**
 * An actuator could not do what it was asked. {@code transientFault} marks faults worth retrying with backoff
 * (registry unreachable, bus dropped); the others are verdicts (a broken build, a unit that will not start).
 */
public class ActuatorException extends Exception {
    private final boolean transientFault;
    private final boolean refusedUserFiles;

    public ActuatorException(String message, boolean transientFault, Throwable cause) {
        this(message, transientFault, false, cause);
    }

    private ActuatorException(String message, boolean transientFault, boolean refusedUserFiles, Throwable cause) {
        super(message, cause);
        this.transientFault = transientFault;
        this.refusedUserFiles = refusedUserFiles;
    }

    public ActuatorException(String message, boolean transientFault) { this(message, transientFault, null); }

    public static ActuatorException verdict(String message) { return new ActuatorException(message, false); }

    public static ActuatorException transientFault(String message, Throwable cause) { return new ActuatorException(message, true, cause); }

    /**
     * A verdict about one user's files, not about the build: their database (or a file beside it) is not a regular
     * file, is a link, or cannot be reached by that user. The user is quarantined; the others go on.
     */
    public static ActuatorException refusedUserFiles(String message) { return new ActuatorException(message, false, true, null); }

    public boolean isTransient() { return transientFault; }

    public boolean refusesUserFiles() { return refusedUserFiles; }
}
