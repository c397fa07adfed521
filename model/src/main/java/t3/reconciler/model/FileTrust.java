package t3.reconciler.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Files that steer root's actions (the desired state, the users map, the freeze file) are trusted only if nobody but
 * root could have written, replaced or redirected them: when the controller runs as root, such a file, the directory
 * holding it and every directory above it must be owned by root and not writable by group or others. A sticky
 * directory (like /tmp) passes above the file's own directory, since nobody else may rename root's entry in it, but
 * not as the directory holding the file, where anyone could create the name while it is absent. A symbolic link on the
 * way is followed only if root owns it. Anyone who could write these files could make root restart, restore or install.
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
            Optional<Path> walked = walk(file, file.toAbsolutePath());
            if (walked.isEmpty()) return Optional.empty();
            Path real = walked.get();
            boolean isDir = Files.isDirectory(real, LinkOption.NOFOLLOW_LINKS);
            Optional<String> f = check(real, isDir ? "directory " + real : "file", isDir);
            if (f.isPresent()) return f;
            Path dir = real.getParent();
            return dir == null ? Optional.empty() : check(dir, "its directory " + dir, false);
        } catch (Untrusted e) {
            return Optional.of(e.why);
        } catch (IOException e) {
            return Optional.of("cannot check who may write it: " + e.getMessage());
        }
    }

    /** {@code stickyPasses}: a directory with the sticky bit (like /tmp) may be writable by others. */
    private static Optional<String> check(Path p, String what, boolean stickyPasses) throws IOException {
        PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        int uid = (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        if (uid != 0) {
            return Optional.of(what + " is owned by " + a.owner().getName() + " (uid " + uid + "), not root; the controller runs as root and refuses"
                    + " to take orders from a file another user could write (chown root:root it)");
        }
        Set<PosixFilePermission> perms = a.permissions();
        boolean sticky = a.isDirectory() && (((Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS)) & 01000) != 0;
        // A sticky directory (like /tmp) lets nobody but the owner remove or replace root's file in it.
        if (!(sticky && stickyPasses) && perms.stream().anyMatch(WRITE_BY_OTHERS::contains)) {
            return Optional.of(what + " is writable by group or others (" + PosixFilePermissions.toString(perms) + (sticky ? ", sticky" : "")
                    + "); the controller runs as root and refuses to take orders from a file another user could write"
                    + (sticky ? ", or create while it is absent (use a directory only root may write)" : " (chmod go-w it)"));
        }
        return Optional.empty();
    }

    /** A file root both reads and writes (the freeze file) that another user could have planted, redirected or could replace. */
    public static final class Untrusted extends IOException {
        /** The reason alone, without the file's name. */
        public final String why;

        public Untrusted(Path file, String why) {
            super(file + ": " + why);
            this.why = why;
        }
    }

    /**
     * Where root's own file {@code file} is (or will be), proven out of every other user's reach: the directory it is
     * in, reached without following any link another user could re-point (each directory on the way, links' targets
     * included, is root's and writable by root alone; a sticky one such as /tmp passes on the way, since nobody else
     * may rename root's entry in it), is root's alone, sticky or not: in a sticky directory anyone may create the
     * name while it is absent, or plant the temp file a writer uses. The file itself is looked at, not followed: a
     * symbolic link, or anything but a regular file, is refused. Returns the real path to use instead of
     * {@code file}, so nothing is resolved again between this check and the use. Not running as root: {@code file}.
     */
    public static Path rootsOwn(Path file) throws IOException {
        if (!runningAsRoot()) return file;
        Path name = file.getFileName();
        Path parent = file.toAbsolutePath().getParent();
        if (name == null || parent == null) throw new Untrusted(file, "is not a file in a directory");
        Optional<Path> walked = walk(file, parent);
        // A directory that does not exist, below directories only root may write, holds no file and nobody else can make one.
        if (walked.isEmpty()) return file.toAbsolutePath();
        Path dir = walked.get();
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) throw new Untrusted(file, dir + " is not a directory");
        Optional<String> d = check(dir, "its directory " + dir, false);
        if (d.isPresent()) throw new Untrusted(file, d.get());
        Path real = dir.resolve(name);
        PosixFileAttributes a;
        try {
            a = Files.readAttributes(real, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return real;
        }
        if (a.isSymbolicLink()) throw new Untrusted(file, "is a symbolic link; the controller runs as root and does not follow a link for a file it writes (make it a regular file)");
        if (!a.isRegularFile()) throw new Untrusted(file, "is not a regular file");
        Optional<String> f = check(real, "file", false);
        if (f.isPresent()) throw new Untrusted(file, f.get());
        return real;
    }

    /**
     * The real directory {@code dir} names, walked one component at a time from {@code /} without letting the OS
     * follow links: a link is read and its target walked in turn only when it is root's and the directory holding it
     * is proven root's, so what it points at cannot change under us. Every component but the last must be a
     * directory; the last is returned unchecked. Empty when something on the way, or the last, does not exist.
     */
    private static Optional<Path> walk(Path file, Path dir) throws IOException {
        Deque<String> todo = new ArrayDeque<>();
        for (Path c : dir) todo.addLast(c.toString());
        Path at = dir.getRoot();
        Optional<String> root = check(at, "directory " + at, true);
        if (root.isPresent()) throw new Untrusted(file, root.get());
        int links = 0;
        while (!todo.isEmpty()) {
            String c = todo.removeFirst();
            if (c.isEmpty() || c.equals(".")) continue;
            if (c.equals("..")) {
                if (at.getParent() != null) at = at.getParent(); // at is a real directory: its parent is what .. names
                continue;
            }
            Path next = at.resolve(c);
            PosixFileAttributes a;
            try {
                a = Files.readAttributes(next, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                return Optional.empty();
            }
            if (a.isSymbolicLink()) {
                // The directory holding it is root's (sticky at most), so only the link's owner may re-point or replace it.
                int owner = (Integer) Files.getAttribute(next, "unix:uid", LinkOption.NOFOLLOW_LINKS);
                if (owner != 0) throw new Untrusted(file, "the symbolic link " + next + " on the way to it is owned by " + a.owner().getName() + " (uid " + owner + "), not root");
                if (++links > 40) throw new Untrusted(file, "too many symbolic links on the way to it");
                Path target = Files.readSymbolicLink(next);
                List<String> parts = new ArrayList<>();
                for (Path p : target) parts.add(p.toString());
                for (int i = parts.size() - 1; i >= 0; i--) todo.addFirst(parts.get(i));
                if (target.isAbsolute()) at = target.getRoot();
                continue;
            }
            if (!a.isDirectory()) {
                if (todo.isEmpty()) return Optional.of(next);
                throw new Untrusted(file, next + " is not a directory");
            }
            Optional<String> p = check(next, "directory " + next, true);
            if (p.isPresent()) throw new Untrusted(file, p.get());
            at = next;
        }
        return Optional.of(at);
    }
}
