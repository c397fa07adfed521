package t3.reconciler.controller.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.testbed.RegistryBed;

/**
 * The unit lists backup.dir in ReadWritePaths with "-" (a missing path must not stop the service), so the directory
 * must exist before the first backup: packaging/t3-reconciler.tmpfiles creates it, root's alone, as systemd-tmpfiles
 * applies it at boot or at install.
 */
class TmpfilesConfIT {
    @TempDir Path root;

    @Test
    void createsBackupDirRootOnly() throws Exception {
        assertEquals(0, (int) (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid"), "TmpfilesConfIT needs root: it creates root-owned directories");
        Path conf = RegistryBed.repoRoot().resolve("packaging/t3-reconciler.tmpfiles");
        Process p = new ProcessBuilder("systemd-tmpfiles", "--create", "--root=" + root, conf.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "systemd-tmpfiles --create " + conf + ": " + out);
        Path backups = root.resolve("var/backups/t3-state");
        assertTrue(Files.isDirectory(backups, LinkOption.NOFOLLOW_LINKS), "created " + backups);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(backups, LinkOption.NOFOLLOW_LINKS)));
        assertEquals(0, (int) (Integer) Files.getAttribute(backups, "unix:uid", LinkOption.NOFOLLOW_LINKS));
        assertEquals(0, (int) (Integer) Files.getAttribute(backups, "unix:gid", LinkOption.NOFOLLOW_LINKS));
    }
}
