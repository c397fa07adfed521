package t3.reconciler.controller.actuator.npm;

import t3.reconciler.model.Values;

/**
 * An npm package name safe for a command line: the rule {@code validate} applies ({@link Values#packageName}: npm's
 * rules for new packages, never a leading {@code -} or {@code .}), so it cannot be read as an option or a path, and
 * a name that passes {@code validate} never fails here.
 */
public record PackageName(String value) {
    public PackageName {
        Values.packageName(value);
    }

    /** The binary npm links into {@code <prefix>/bin}: the name without its scope. */
    public String binName() {
        int slash = value.indexOf('/');
        return slash < 0 ? value : value.substring(slash + 1);
    }

    @Override
    public String toString() { return value; }
}
