package t3.reconciler.controller.actuator.backup;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.Set;

/**
 * Whose a user's files are. The controller runs as root, but everything it creates for a user (backups, archives,
 * a restored database) must belong to that user, or the user's own server can no longer open it.
 */
record Owner(UserPrincipal user, GroupPrincipal group) {
    static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
    static final Set<PosixFilePermission> DIR = PosixFilePermissions.fromString("rwx------");

    static Owner of(Path p) throws IOException {
        PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class);
        return new Owner(a.owner(), a.group());
    }

    /** Chowns only when needed: a non-root controller may not chown at all, even to the owner a file already has. */
    void apply(Path p) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        PosixFileAttributes a = view.readAttributes();
        if (!a.owner().equals(user)) view.setOwner(user);
        if (!a.group().equals(group)) view.setGroup(group);
    }

    /** Makes {@code dir} (its parent must exist) or adopts it: ours, 0700. */
    Path dir(Path dir) throws IOException {
        boolean created = false;
        try {
            Files.createDirectory(dir, attr(DIR));
            created = true;
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) throw e;
        }
        apply(dir);
        Files.setPosixFilePermissions(dir, DIR);
        if (created) sync(dir.getParent()); // the new entry must survive a crash as surely as what goes in it
        return dir;
    }

    /** A new empty file, ours and 0600 before a single byte is in it. */
    Path newFile(Path file) throws IOException {
        Files.createFile(file, attr(FILE));
        apply(file);
        Files.setPosixFilePermissions(file, FILE); // the umask may have narrowed it; never widened
        return file;
    }

    static FileAttribute<Set<PosixFilePermission>> attr(Set<PosixFilePermission> perms) {
        return PosixFilePermissions.asFileAttribute(perms);
    }

    /** fsync of a file or directory (a rename is durable only once its directory is synced). */
    static void sync(Path p) throws IOException {
        try (FileChannel c = FileChannel.open(p, StandardOpenOption.READ)) {
            c.force(true);
        }
    }
}
