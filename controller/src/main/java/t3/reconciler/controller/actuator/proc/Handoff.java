package t3.reconciler.controller.actuator.proc;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;

/**
 * Where root hands work to an account: a fresh directory with a random name (never reused by path, so it may sit in a
 * world-writable sticky directory such as {@code /var/tmp}), owned by root and the account's group, mode 0710: root
 * and the account may enter it, nobody else. What the account may write is a subdirectory given to it; whatever root
 * reads back (a log) sits beside, in root's part.
 */
public final class Handoff {
    private Handoff() {}

    /**
     * Creates {@code <parent>/<namePrefix><random>} (and {@code parent} if missing: root's, 0755).
     *
     * @throws IOException also when the account could not reach it, naming the directory in the way
     */
    public static Path create(Path parent, String namePrefix, Account as) throws IOException {
        Files.createDirectories(parent);
        requireSearchable(parent.toAbsolutePath(), as);
        Path dir = Files.createTempDirectory(parent, namePrefix); // mkdir of a new random name: 0700, root's
        PosixFileAttributeView view = Files.getFileAttributeView(dir, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        view.setGroup(group(dir, as));
        view.setPermissions(PosixFilePermissions.fromString("rwx--x---"));
        return dir;
    }

    /** A new directory {@code dir/name} owned by the account with {@code mode} (e.g. {@code rwx------}). */
    public static Path give(Path dir, String name, Account as, String mode) throws IOException {
        Path d = Files.createDirectory(dir.resolve(name));
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString(mode));
        PosixFileAttributeView view = Files.getFileAttributeView(d, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        view.setOwner(user(d, as));
        view.setGroup(group(d, as));
        return d;
    }

    /** Takes the directory back: root:root 0700, so no process of the account can look anything up in it any more. */
    public static void close(Path dir) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(dir, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        view.setPermissions(PosixFilePermissions.fromString("rwx------"));
        view.setGroup(lookup(dir).lookupPrincipalByGroupName("root"));
    }

    /**
     * Gives a tree root filled (a copy of a backup) to the account, links not followed. Only for a tree in a
     * {@link #create}d directory that the account has not been given yet: nobody else can have changed it.
     */
    public static void giveTree(Path root, Account as) throws IOException {
        UserPrincipal owner = user(root, as);
        GroupPrincipal group = group(root, as);
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                chown(d);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                chown(f);
                return FileVisitResult.CONTINUE;
            }

            private void chown(Path p) throws IOException {
                PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
                view.setOwner(owner);
                view.setGroup(group);
            }
        });
    }

    /** Each directory from / down to {@code dir} must let the account through (it has no supplementary groups). */
    static void requireSearchable(Path dir, Account as) throws IOException {
        for (Path p = dir; p != null; p = p.getParent()) {
            int mode = (Integer) Files.getAttribute(p, "unix:mode");
            int uid = (Integer) Files.getAttribute(p, "unix:uid");
            int gid = (Integer) Files.getAttribute(p, "unix:gid");
            int bit = uid == as.uid() ? 0100 : gid == as.gid() ? 010 : 01;
            if ((mode & bit) == 0) {
                throw new IOException("account '" + as.name() + "' cannot reach " + dir + ": " + p + " is mode "
                        + String.format("%04o", mode & 07777) + " (uid " + uid + ", gid " + gid + "); make it searchable (o+x)");
            }
        }
    }

    private static UserPrincipal user(Path on, Account as) throws IOException {
        return lookup(on).lookupPrincipalByName(as.name());
    }

    private static GroupPrincipal group(Path on, Account as) throws IOException {
        // By number: the account's primary group need not carry its name.
        return lookup(on).lookupPrincipalByGroupName(Integer.toString(as.gid()));
    }

    private static UserPrincipalLookupService lookup(Path on) { return on.getFileSystem().getUserPrincipalLookupService(); }
}
