package t3.reconciler.controller.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The freeze file moved to where the sandboxed service may write it; a file an operator left at the old default must
 * still freeze after the upgrade, and say which file to remove, since neither the breaker nor unfreeze touches it.
 */
class LegacyFreezeFileTest {
    @TempDir Path dir;

    @Test
    void anOldFreezeFileStillFreezesAndIsNamed() throws Exception {
        Path legacy = Files.writeString(dir.resolve("t3-autoupdate.freeze"), "hands off until the audit\n");
        String why = FreezeFile.readWithLegacy(dir.resolve("freeze"), legacy).orElseThrow(() -> new AssertionError("the old file no longer freezes"));
        assertTrue(why.startsWith("legacy freeze file " + legacy + " (remove it by hand to lift): hands off until the audit"), why);
    }

    @Test
    void theConfiguredFileSpeaksFirstAndNeitherMeansNotFrozen() throws Exception {
        Path configured = dir.resolve("freeze");
        Path legacy = dir.resolve("t3-autoupdate.freeze");
        assertEquals(Optional.empty(), FreezeFile.readWithLegacy(configured, legacy));
        Files.writeString(legacy, "old\n");
        Files.writeString(configured, "self-freeze\n");
        assertEquals(Optional.of("self-freeze\n"), FreezeFile.readWithLegacy(configured, legacy));
    }

    @Test
    void aSpecThatStillNamesTheOldPathReadsItOnce() throws Exception {
        Path legacy = Files.writeString(dir.resolve("t3-autoupdate.freeze"), "by hand\n");
        assertEquals(Optional.of("by hand\n"), FreezeFile.readWithLegacy(legacy, legacy));
    }

    @Test
    void theObserverHonoursTheRealOldPath() {
        assertEquals(Path.of("/etc/t3-autoupdate.freeze"), FreezeFile.LEGACY, "the path operators and old docs used");
    }
}
