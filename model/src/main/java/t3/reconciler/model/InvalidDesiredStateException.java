package t3.reconciler.model;

import java.util.List;
import java.util.stream.Collectors;

/**
 * The desired-state file cannot be used. Carries every problem found, not just the first, so an operator
 * fixes the file in one round; the message is one {@link Problem} per line and is meant to be printed as is.
 */
public class InvalidDesiredStateException extends Exception {
    private final transient List<Problem> problems;

    public InvalidDesiredStateException(List<Problem> problems) {
        super(problems.stream().map(Problem::toString).collect(Collectors.joining("\n")));
        if (problems.isEmpty()) throw new IllegalArgumentException("an invalid desired state needs at least one problem");
        this.problems = List.copyOf(problems);
    }

    public List<Problem> problems() { return problems; }
}
