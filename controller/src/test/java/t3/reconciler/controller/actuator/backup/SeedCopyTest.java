package t3.reconciler.controller.actuator.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SeedCopyTest {
    @TempDir Path dir;

    @Test
    void copiesEveryByteAndSaysHowMany() throws Exception {
        byte[] data = new byte[3 * 1024 * 1024 + 17];
        new Random(7).nextBytes(data);
        Path from = Files.write(dir.resolve("it's a \"seed\" $(x).sqlite"), data); // a name a shell would mangle
        Path to = dir.resolve("copy.sqlite");
        assertEquals(data.length, SeedCopy.copy(from, to));
        assertEquals(-1, Files.mismatch(from, to));
    }

    @Test
    void streamsWhenCpIsMissing() throws Exception {
        byte[] data = new byte[100_000];
        new Random(8).nextBytes(data);
        Path from = Files.write(dir.resolve("seed.sqlite"), data);
        Path to = dir.resolve("copy.sqlite");
        assertEquals(data.length, SeedCopy.copy(from, to, "/nonexistent/cp"));
        assertEquals(-1, Files.mismatch(from, to));
    }

    @Test
    void streamsWhenCpFails() throws Exception {
        Path from = Files.writeString(dir.resolve("seed.sqlite"), "seed");
        Path to = dir.resolve("copy.sqlite");
        assertEquals(4, SeedCopy.copy(from, to, "false"));
        assertEquals("seed", Files.readString(to));
    }

    @Test
    void neverOverwrites() throws Exception {
        Path from = Files.writeString(dir.resolve("a"), "seed");
        Path to = Files.writeString(dir.resolve("b"), "precious");
        assertThrows(FileAlreadyExistsException.class, () -> SeedCopy.copy(from, to));
        assertEquals("precious", Files.readString(to));
    }

    @Test
    void failsWhenThereIsNothingToCopy() {
        assertThrows(IOException.class, () -> SeedCopy.copy(dir.resolve("none"), dir.resolve("b")));
    }
}
