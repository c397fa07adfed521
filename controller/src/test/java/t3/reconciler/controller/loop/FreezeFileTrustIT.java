package t3.reconciler.controller.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.model.FileTrust;

/**
 * The freeze file steers root: a self-freeze is lifted by removing it. One another user could write (or remove, through
 * its directory) is not trusted, and the controller stays frozen, saying why, until both are root's alone.
 */
class FreezeFileTrustIT {
    @TempDir Path dir;

    @Test
    void rootsOwnFreezeFileIsReadAndItsAbsenceMeansNotFrozen() throws Exception {
        Path freeze = dir.resolve("freeze");
        assertEquals(Optional.empty(), Observer.readFreezeFile(freeze));
        Files.writeString(freeze, "maintenance\n");
        assertEquals(Optional.of("maintenance\n"), Observer.readFreezeFile(freeze));
    }

    @Test
    void aFreezeFileAnotherUserOwnsKeepsTheControllerFrozenAndSaysWhy() throws Exception {
        requireRoot();
        Path freeze = Files.writeString(dir.resolve("freeze"), "");
        Files.setAttribute(freeze, "unix:uid", 65534);
        String why = Observer.readFreezeFile(freeze).orElseThrow();
        assertTrue(why.startsWith("refused: " + freeze + ": file is owned by nobody (uid 65534), not root"), why);
    }

    @Test
    void aDirectoryAnotherUserCouldRemoveTheSelfFreezeFromIsNotTrustedEvenWhenTheFileIsGone() throws Exception {
        requireRoot();
        Path state = Files.createDirectory(dir.resolve("state"));
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwxrwxrwx"));
        String why = Observer.readFreezeFile(state.resolve("freeze")).orElseThrow(() -> new AssertionError("an absent file in an open directory is not 'not frozen'"));
        assertTrue(why.contains("directory " + state + " is writable by group or others"), why);
    }

    /** Fails, never skips, when not root: a skipped test here would hide that a root controller's check went untested. */
    static void requireRoot() {
        assertTrue(FileTrust.runningAsRoot(), "this test proves a check a root controller makes: run it as root (the suite does)");
    }
}
