package t3.reconciler.controller.actuator.health;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Who a command must run as so that the files it creates belong to the user: the owner of their base dir. As root we
 * switch with {@code setpriv}; as that very user we run directly.
 *
 * @param name the passwd name, when the uid has one ({@code --init-groups} needs it)
 * @param home the passwd home, when known
 */
record RunAs(int uid, int gid, Optional<String> name, Optional<Path> home) {
    static final Path SETPRIV = Path.of("/usr/bin/setpriv");

    static RunAs ownerOf(Path dir) throws IOException {
        int uid = (Integer) Files.getAttribute(dir, "unix:uid");
        int gid = (Integer) Files.getAttribute(dir, "unix:gid");
        Optional<String> name = Optional.empty();
        Optional<Path> home = Optional.empty();
        Path passwd = Path.of("/etc/passwd");
        if (Files.isReadable(passwd)) {
            for (String line : Files.readAllLines(passwd)) {
                String[] f = line.split(":", -1);
                if (f.length >= 7 && f[2].equals(Integer.toString(uid))) {
                    name = Optional.of(f[0]);
                    home = Optional.of(Path.of(f[5]));
                    break;
                }
            }
        }
        return new RunAs(uid, gid, name, home);
    }

    static int currentUid() throws IOException {
        return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }

    /** {@code argv}, wrapped in setpriv unless we already are this user. */
    List<String> wrap(List<String> argv) throws IOException {
        if (currentUid() == uid) return argv;
        List<String> out = new ArrayList<>(List.of(SETPRIV.toString(), "--reuid=" + uid, "--regid=" + gid,
                name.isPresent() ? "--init-groups" : "--clear-groups", "--"));
        out.addAll(argv);
        return out;
    }

    /** Environment for the switched command: its own HOME, so nothing lands in root's. */
    Map<String, String> env(Path fallbackHome) {
        String h = home.orElse(fallbackHome).toString();
        String n = name.orElse(Integer.toString(uid));
        return Map.of("HOME", h, "USER", n, "LOGNAME", n);
    }
}
