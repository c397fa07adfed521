package t3.reconciler.controller.actuator.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checksum memo outlives the process (a file in the user's backup directory), so a new process does not hash
 * every backup again before its first plan; a remembered verdict counts only while the backup is the same file with
 * the same size and mtimes. Each {@link Checksums} here stands for one process.
 */
class ChecksumsMemoTest {
    @TempDir Path root;

    Path backupWithSidecar(Path dir, String name, String content) throws Exception {
        Path b = Files.writeString(dir.resolve(name), content);
        Files.writeString(Checksums.sidecar(b), Checksums.sha256(b) + "  " + name + "\n", StandardCharsets.US_ASCII);
        return b;
    }

    @Test
    void aNewProcessTakesAVerdictHashedByAnEarlierOneWhileTheFileIsUnchanged() throws Exception {
        Path dir = Files.createDirectories(root.resolve("alice"));
        Path b = backupWithSidecar(dir, "20260608T101530124Z_0.0.25-nightly.20260608.497.sqlite", "one backup's bytes");
        FileTime mtime = Files.getLastModifiedTime(b);
        BackupTree tree = new BackupTree(root);

        Checksums first = new Checksums();
        assertTrue(first.verified(b));
        first.remember(dir, tree);
        assertTrue(Files.isRegularFile(dir.resolve(Checksums.REMEMBERED)), "the verdict is written for the next process");

        // Same file, size and mtime, other bytes: only a process that does not hash again still says verified.
        Files.writeString(b, "ONE BACKUP'S BYTES");
        Files.setLastModifiedTime(b, mtime);
        assertTrue(new Checksums().verified(b), "the remembered verdict is taken, not hashed again");

        // A changed mtime (any ordinary write) makes the remembered verdict void: hashed again, and found changed.
        Files.setLastModifiedTime(b, FileTime.fromMillis(mtime.toMillis() + 1000));
        assertFalse(new Checksums().verified(b));
    }

    @Test
    void aListingThatHashedNothingWritesNothingAndOddLinesAreHashedAgain() throws Exception {
        Path dir = Files.createDirectories(root.resolve("bob"));
        Path b = backupWithSidecar(dir, "20260608T101530124Z_0.0.25-nightly.20260608.497.sqlite", "bytes");
        BackupTree tree = new BackupTree(root);
        Checksums c = new Checksums();
        c.remember(dir, tree);
        assertFalse(Files.exists(dir.resolve(Checksums.REMEMBERED)), "nothing hashed, nothing to write");

        Files.writeString(dir.resolve(Checksums.REMEMBERED), "not\ta\tline\n1\t2\t3\tx\t../elsewhere\n");
        Files.writeString(b, "changed bytes");
        assertFalse(new Checksums().verified(b), "a file the memo does not describe is hashed");
        try (var left = Files.list(dir)) {
            assertEquals(3, left.count(), "the backup, its sidecar and the memo; no temporary file");
        }
    }
}
