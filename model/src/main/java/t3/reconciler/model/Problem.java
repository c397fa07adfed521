package t3.reconciler.model;

import java.nio.file.Path;

/**
 * One thing wrong with a desired-state file, pinned to where the operator wrote it.
 *
 * @param line   1-based
 * @param column 1-based
 * @param field  dotted path such as {@code healthCheck.pairingEndpoints[1]}, or {@code (document)} for the file as a whole
 */
public record Problem(Path file, int line, int column, String field, String message) {
    /** The field of problems that belong to no key: syntax errors, size and nesting limits. */
    public static final String DOCUMENT = "(document)";

    /** The compiler-style form editors and terminals turn into a link: {@code file:line:column: field: message}. */
    @Override
    public String toString() {
        return file + ":" + line + ":" + column + ": " + field + ": " + message;
    }
}
