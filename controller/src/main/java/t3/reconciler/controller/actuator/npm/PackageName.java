package t3.reconciler.controller.actuator.npm;

import java.util.regex.Pattern;

/**
 * An npm package name safe for a command line: npm's rules for new packages (lowercase, optional scope), and never a
 * leading {@code -} or {@code .}, so it cannot be read as an option or a path.
 */
public record PackageName(String value) {
    private static final Pattern NAME = Pattern.compile("(?:@[a-z0-9~][a-z0-9._~-]*/)?[a-z0-9~][a-z0-9._~-]*");

    public PackageName {
        if (value == null || value.length() > 214 || !NAME.matcher(value).matches()) {
            throw new IllegalArgumentException("'" + value + "' is not a valid npm package name");
        }
    }

    /** The binary npm links into {@code <prefix>/bin}: the name without its scope. */
    public String binName() {
        int slash = value.indexOf('/');
        return slash < 0 ? value : value.substring(slash + 1);
    }

    @Override
    public String toString() { return value; }
}
