package t3.reconciler.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Set;

/**
 * Files that steer root's actions (the desired state, the users map, the freeze file) are trusted only if nobody but
 * root could have written them: when the controller runs as root, such a file and the directory holding it must be
 * owned by root and not writable by group or others (a directory that is writable but sticky, like /tmp, cannot have
 * root's file replaced, so it passes). Anyone who could write them could make root restart, restore or install.
 */
public final class FileTrust {
    private FileTrust() {}

    private static final Set<PosixFilePermission> WRITE_BY_OTHERS = Set.of(PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE);

    /** Whether this process runs as root (the owner of {@code /proc/self} is the effective uid). */
    public static boolean runningAsRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | RuntimeException e) {
            return false; // no /proc: not Linux, and not the deployment this guards
        }
    }

    /** Why {@code file} is not to be trusted by a root controller, or empty when it is (or when not running as root). */
    public static Optional<String> problem(Path file) {
        return runningAsRoot() ? untrusted(file) : Optional.empty();
    }

    /** The check itself, whoever runs it; a missing file is not this check's business. */
    static Optional<String> untrusted(Path file) {
        try {
            Path real = file.toRealPath();
            boolean isDir = Files.isDirectory(real);
            Optional<String> f = check(real, isDir ? "directory " + real : "file", isDir);
            if (f.isPresent()) return f;
            Path dir = real.getParent();
            return dir == null ? Optional.empty() : check(dir, "its directory " + dir, true);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of("cannot check who may write it: " + e.getMessage());
        }
    }

    private static Optional<String> check(Path p, String what, boolean directory) throws IOException {
        PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class);
        int uid = (Integer) Files.getAttribute(p, "unix:uid");
        if (uid != 0) {
            return Optional.of(what + " is owned by " + a.owner().getName() + " (uid " + uid + "), not root; the controller runs as root and refuses"
                    + " to take orders from a file another user could write (chown root:root it)");
        }
        Set<PosixFilePermission> perms = a.permissions();
        boolean sticky = directory && (((Integer) Files.getAttribute(p, "unix:mode")) & 01000) != 0;
        // A sticky directory (like /tmp) lets nobody but the owner remove or replace root's file in it.
        if (!sticky && perms.stream().anyMatch(WRITE_BY_OTHERS::contains)) {
            return Optional.of(what + " is writable by group or others (" + PosixFilePermissions.toString(perms) + "); the controller runs as root"
                    + " and refuses to take orders from a file another user could write (chmod go-w it)");
        }
        return Optional.empty();
    }
}
