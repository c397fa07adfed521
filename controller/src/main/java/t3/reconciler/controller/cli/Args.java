package t3.reconciler.controller.cli;

import t3.reconciler.model.DesiredState;
import t3.reconciler.model.User;
import t3.reconciler.model.Version;

/** Operator input checked before it reaches a path, a command line or the store; a bad value exits 2 naming it. */
final class Args {
    private Args() {}

    static Version version(String s) {
        if (!Version.isValid(s)) throw new CliException(Main.USAGE, "'" + s + "' is not a valid version (npm semver, e.g. 0.0.25-nightly.20260608.2)");
        return Version.parse(s);
    }

    /** A user of the desired state: anyone else is not ours to touch. */
    static String user(DesiredState s, String name) {
        if (!User.isValidName(name)) throw new CliException(Main.USAGE, "'" + name + "' is not a valid user name");
        if (s.user(name).isEmpty()) throw new CliException(Main.USAGE, "unknown user '" + name + "': not in " + s.source() + " (users: "
                + String.join(", ", s.users().stream().map(User::name).toList()) + ")");
        return name;
    }

    private static final java.util.regex.Pattern HOST = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    /** A fleet host id (fleet.hostId's rule): it becomes part of an etcd key, so no '/' may reach one. */
    static String host(String s) {
        if (!HOST.matcher(s).matches()) throw new CliException(Main.USAGE, "'" + s + "' is not a valid host id (letters, digits, '.', '_', '-', at most 64)");
        return s;
    }

    /** Who ran the command, for the event log: the sudo caller if any. */
    static String who() { return System.getenv().getOrDefault("SUDO_USER", System.getProperty("user.name")); }
}
