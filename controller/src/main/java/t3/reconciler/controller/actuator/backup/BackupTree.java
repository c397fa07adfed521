package t3.reconciler.controller.actuator.backup;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The backup tree, {@code <root>/<user>[/archive/<stamp>]}: every directory owned by the controller's own uid (root in
 * production) and 0700, every file 0600, so no user can enter it, plant a link or FIFO in it, or read another user's
 * backups. Once a directory is ours and 0700 its entries can change only by our hand, which is what makes the
 * by-path operations of this package safe inside it.
 *
 * <p>An older layout gave each user their own {@code <root>/<user>}: such a directory is taken back on first use,
 * top-down (a directory is made ours before its entries are read, so the user cannot change them behind us).
 */
final class BackupTree {
    static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
    static final Set<PosixFilePermission> DIR = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> WRITE_BY_OTHERS = Set.of(PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE);

    /** Thrown when the tree cannot be made root's alone: a configuration problem, not an outage. */
    static final class Unsafe extends IOException {
        Unsafe(String message) { super(message); }
    }

    private final Path root;
    private final int uid, gid;
    private final SecureRandom random = new SecureRandom();
    /** Users whose whole directory was taken back by this process; afterwards only its top needs a look. */
    private final Set<String> adopted = ConcurrentHashMap.newKeySet();
    private volatile boolean ancestorsChecked;

    BackupTree(Path root) {
        this.root = root.toAbsolutePath().normalize();
        try {
            this.uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            this.gid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:gid");
        } catch (IOException e) {
            throw new IllegalStateException("cannot tell our own uid from /proc/self", e);
        }
    }

    Path root() { return root; }

    /** {@code <root>/<user>}, created or taken back. */
    Path userDir(String user) throws IOException {
        Path dir = secureRoot().resolve(user);
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR));
            adopted.add(user);
            own(dir, DIR); // the umask may have narrowed it
            sync(root);
            return dir;
        } catch (FileAlreadyExistsException e) {
            return adopt(user, dir);
        }
    }

    /** {@code <root>/<user>} taken back if it exists; never created (listing must not make directories). */
    Optional<Path> existingUserDir(String user) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) return Optional.empty();
        Path dir = secureRoot().resolve(user);
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) return Optional.empty();
        return Optional.of(adopt(user, dir));
    }

    /** A new directory of ours in {@code parent} (already ours); {@link FileAlreadyExistsException} if taken. */
    Path newDir(Path parent, String name) throws IOException {
        Path dir = Files.createDirectory(parent.resolve(name), PosixFilePermissions.asFileAttribute(DIR));
        own(dir, DIR);
        sync(parent);
        return dir;
    }

    /**
     * A new empty file of ours, 0600 before a byte is in it, under a random name starting with {@code prefix}:
     * {@code O_CREAT|O_EXCL} never opens what is already there, link or not.
     */
    Path newFile(Path dir, String prefix) throws IOException {
        Path file = dir.resolve(prefix + token());
        try (FileChannel c = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
                PosixFilePermissions.asFileAttribute(FILE))) {
            own(file, FILE);
        }
        return file;
    }

    String token() {
        byte[] b = new byte[8];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** fsync of a file or directory of ours (a rename is durable only once its directory is synced). */
    static void sync(Path p) throws IOException {
        try (FileChannel c = FileChannel.open(p, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            c.force(true);
        }
    }

    /**
     * {@code <root>} itself: created 0700 if missing, else it must be a real directory (not a link), which is made
     * ours and 0700, under parents nobody else could swap it out of.
     */
    private Path secureRoot() throws IOException {
        Path parent = root.getParent();
        if (parent == null) throw new Unsafe("backup.dir " + root + " cannot be the filesystem root");
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(parent);
            try {
                Files.createDirectory(root, PosixFilePermissions.asFileAttribute(DIR));
            } catch (FileAlreadyExistsException e) {
                // made concurrently: checked below like any existing one
            }
        }
        BasicFileAttributes a = Files.readAttributes(root, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (a.isSymbolicLink()) throw new Unsafe("backup.dir " + root + " is a symbolic link; it must be a real directory only root can enter");
        if (!a.isDirectory()) throw new Unsafe("backup.dir " + root + " is not a directory");
        if (!ancestorsChecked) { // once per process: every pass lists every user's backups
            ancestorsTrusted(parent);
            ancestorsChecked = true;
        }
        try {
            own(root, DIR);
        } catch (IOException e) {
            throw new Unsafe("backup.dir " + root + " cannot be made " + whom() + "'s alone (0700): " + e);
        }
        return root;
    }

    /**
     * Whoever could write a parent of {@code <root>} could rename the tree away and put their own in its place. A
     * sticky directory (like /tmp) lets nobody but an entry's owner move it, so it passes.
     */
    private void ancestorsTrusted(Path parent) throws IOException {
        for (Path p = parent.toRealPath(); p != null; p = p.getParent()) {
            PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class);
            int owner = (Integer) Files.getAttribute(p, "unix:uid");
            boolean sticky = (((Integer) Files.getAttribute(p, "unix:mode")) & 01000) != 0;
            if (owner != 0 && owner != uid) {
                throw new Unsafe("backup.dir " + root + ": its parent " + p + " is owned by uid " + owner + ", who could swap the backups out");
            }
            if (!sticky && a.permissions().stream().anyMatch(WRITE_BY_OTHERS::contains)) {
                throw new Unsafe("backup.dir " + root + ": its parent " + p + " is writable by group or others ("
                        + PosixFilePermissions.toString(a.permissions()) + "), who could swap the backups out");
            }
        }
    }

    /**
     * Takes {@code dir} back: ours and 0700 first, then each entry: directories likewise, regular files ours and 0600,
     * anything else (a link, a FIFO, a device, a hard link to a file elsewhere) removed. Directories are walked
     * without recursion, so a deep tree cannot overflow the stack.
     */
    private Path adopt(String user, Path dir) throws IOException {
        BasicFileAttributes top = Files.readAttributes(dir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (top.isSymbolicLink()) {
            Files.delete(dir); // only we can write <root>, so only an old layout or a person left it: the link itself goes
            return userDir(user);
        }
        if (!top.isDirectory()) throw new Unsafe(dir + " is in the backup tree but is not a directory; move it away");
        if (adopted.contains(user) && isOurs(dir, DIR)) return dir;
        Deque<Path> dirs = new ArrayDeque<>();
        dirs.push(dir);
        while (!dirs.isEmpty()) {
            Path d = dirs.pop();
            own(d, DIR);
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(d)) {
                for (Path e : entries) {
                    BasicFileAttributes a = Files.readAttributes(e, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    if (a.isDirectory()) {
                        dirs.push(e);
                    } else if (a.isRegularFile() && (Integer) Files.getAttribute(e, "unix:nlink", LinkOption.NOFOLLOW_LINKS) == 1) {
                        own(e, FILE);
                    } else {
                        Files.delete(e); // never followed: unlink removes the entry itself
                    }
                }
            }
        }
        sync(dir);
        adopted.add(user);
        return dir;
    }

    private boolean isOurs(Path p, Set<PosixFilePermission> mode) throws IOException {
        PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS) == uid
                && (Integer) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS) == gid
                && a.permissions().equals(mode);
    }

    /**
     * Owner before mode: while the user still owns an entry they could chmod it back. Both act on the entry itself
     * (lchown; chmod through an {@code O_NOFOLLOW} descriptor), and only on directories and regular files.
     */
    private void own(Path p, Set<PosixFilePermission> mode) throws IOException {
        if ((Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS) != uid) Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        if ((Integer) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS) != gid) Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
        if (!Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS).equals(mode)) {
            Files.getFileAttributeView(p, java.nio.file.attribute.PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setPermissions(mode);
        }
    }

    private String whom() { return uid == 0 ? "root" : "uid " + uid; }
}
