package t3.reconciler.controller.cli;

/** Ends a command with a message for the operator and a documented exit code, never a stack trace. */
final class CliException extends RuntimeException {
    final int exitCode;

    CliException(int exitCode, String message) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }
}
