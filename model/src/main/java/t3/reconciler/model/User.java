package t3.reconciler.model;

import java.util.regex.Pattern;

/**
 * One person on the VM: {@code name} is the OS account (the unit instance and the home directory),
 * {@code login} the identity the dispatch proxy sees (authentik username); they are equal unless a
 * user-map file says otherwise.
 */
public record User(String name, String login) {
    /** Safe as a path segment, a systemd instance name and a command-line argument. */
    private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");
    /** Logins only travel in an HTTP header; still no spaces, controls or look-alikes. */
    private static final Pattern LOGIN = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._@-]{0,127}");

    public User {
        requireValidName(name);
        if (!LOGIN.matcher(login).matches()) {
            throw new IllegalArgumentException(Values.quote(String.valueOf(login)) + " is not a valid login (letters, digits, . _ @ -; at most 128)");
        }
    }

    public static User of(String name) { return new User(name, name); }

    public static void requireValidName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(Values.quote(String.valueOf(name)) + " is not a valid user name (lowercase letters, digits, _ and -, starting with a letter or _, at most 32)");
        }
    }

    public static boolean isValidName(String name) { return name != null && NAME.matcher(name).matches(); }
}
