package t3.reconciler.controller.actuator.proc;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Trees that another account wrote, handled by root without following a link at any component: deletion through
 * directory descriptors ({@link SecureDirectoryStream}: {@code openat}/{@code unlinkat} with {@code O_NOFOLLOW}), so
 * a subdirectory swapped for a symlink mid-walk fails the walk instead of steering it out of the tree.
 */
public final class DescriptorTrees {
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

    private DescriptorTrees() {}

    /**
     * Deletes {@code dir} and everything below it. A missing {@code dir} is fine; a {@code dir} that is a link or not a
     * directory is refused.
     */
    public static void delete(Path dir) throws IOException {
        BasicFileAttributes top;
        try {
            top = Files.readAttributes(dir, BasicFileAttributes.class, NOFOLLOW);
        } catch (NoSuchFileException e) {
            return;
        }
        if (!top.isDirectory()) throw new IOException("refusing to delete " + dir + ": it is a " + kind(top) + ", not a directory");
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            if (!(ds instanceof SecureDirectoryStream<Path> sds)) throw new IOException("this platform has no SecureDirectoryStream; refusing to delete " + dir);
            // Opening follows a link at the last component: the descriptor must be the directory we looked at.
            if (!top.fileKey().equals(sds.getFileAttributeView(BasicFileAttributeView.class).readAttributes().fileKey())) {
                throw new IOException("refusing to delete " + dir + ": it was replaced while being opened");
            }
            empty(sds, dir);
        }
        Files.delete(dir); // rmdir: a directory swapped in meanwhile is not empty, a link is not a directory; both fail
    }

    private static void empty(SecureDirectoryStream<Path> dir, Path shown) throws IOException {
        List<Path> names = new ArrayList<>();
        for (Path p : dir) names.add(p.getFileName());
        for (Path name : names) {
            BasicFileAttributes a = dir.getFileAttributeView(name, BasicFileAttributeView.class, NOFOLLOW).readAttributes();
            if (a.isDirectory()) {
                try (SecureDirectoryStream<Path> sub = dir.newDirectoryStream(name, NOFOLLOW)) {
                    empty(sub, shown.resolve(name));
                }
                dir.deleteDirectory(name);
            } else {
                dir.deleteFile(name);
            }
        }
    }

    /**
     * Makes {@code root} and everything below it owned by root:root, with setuid/setgid and group/other write bits
     * dropped, without following links (symlinks are re-owned themselves). Refuses FIFOs, sockets and devices, and
     * files with more than one hard link (a link to a file elsewhere would be re-owned with it).
     *
     * <p>Path-based, so it must only run once nothing but root can change the tree: the run that wrote it has no
     * process left ({@link PidNamespace}) and its parent has been closed to everyone but root ({@link Handoff#close}).
     */
    public static void reownToRoot(Path root) throws IOException {
        BasicFileAttributes top = Files.readAttributes(root, BasicFileAttributes.class, NOFOLLOW);
        if (!top.isDirectory()) throw new IOException("refusing to re-own " + root + ": it is a " + kind(top) + ", not a directory");
        UserPrincipalLookupService names = root.getFileSystem().getUserPrincipalLookupService();
        UserPrincipal owner = names.lookupPrincipalByName("root");
        GroupPrincipal group = names.lookupPrincipalByGroupName("root");
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                fix(dir, attrs);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (attrs.isOther()) throw new IOException("refusing " + file + ": a " + kind(attrs) + " has no place in an install");
                if (attrs.isRegularFile() && (Integer) Files.getAttribute(file, "unix:nlink", NOFOLLOW) > 1) {
                    throw new IOException("refusing " + file + ": it has other hard links (it may be someone else's file)");
                }
                fix(file, attrs);
                return FileVisitResult.CONTINUE;
            }

            private void fix(Path p, BasicFileAttributes attrs) throws IOException {
                PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class, NOFOLLOW);
                view.setOwner(owner); // lchown
                view.setGroup(group);
                if (attrs.isSymbolicLink()) return; // a link's mode means nothing
                // Setting exactly the nine permission bits (through an O_NOFOLLOW descriptor) clears setuid, setgid and sticky.
                Set<PosixFilePermission> perms = EnumSet.noneOf(PosixFilePermission.class);
                perms.addAll(view.readAttributes().permissions());
                perms.removeAll(Set.of(PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE));
                view.setPermissions(perms);
            }
        });
    }

    static String kind(BasicFileAttributes a) {
        if (a.isSymbolicLink()) return "symbolic link";
        if (a.isDirectory()) return "directory";
        if (a.isRegularFile()) return "regular file";
        return "FIFO, socket or device";
    }
}
