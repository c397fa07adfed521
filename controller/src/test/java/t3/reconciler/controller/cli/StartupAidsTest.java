package t3.reconciler.controller.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.util.LibraryLoaderUtil;

/** The pieces packaging/startup-aids.sh runs: the native library copy and the AppCDS training list. */
class StartupAidsTest {
    @TempDir Path tmp;

    @Test
    void theNativeLibraryIsCopiedWholeUnderTheNameSqliteJdbcLoads() throws Exception {
        Path dir = tmp.resolve("t3-reconciler.jar.native");
        SqliteNativeLibrary.main(new String[] {dir.toString()});
        byte[] expected;
        try (InputStream in = LibraryLoaderUtil.class.getResourceAsStream(LibraryLoaderUtil.getNativeLibResourcePath() + "/" + LibraryLoaderUtil.getNativeLibName())) {
            expected = in.readAllBytes();
        }
        assertArrayEquals(expected, Files.readAllBytes(dir.resolve(LibraryLoaderUtil.getNativeLibName())));
        try (var left = Files.list(dir)) {
            assertTrue(left.allMatch(p -> p.getFileName().toString().equals(LibraryLoaderUtil.getNativeLibName())), "no temporary file left behind");
        }
    }

    /** A list that has rotted (libraries upgraded, classes renamed) archives less and starts slower: regenerate it. */
    @Test
    void nearlyEveryClassInTheTrainingListStillLoads() throws Exception {
        List<String> names = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(CdsTraining.class.getResourceAsStream("cds-training.classes"), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) if (!line.isBlank() && !line.startsWith("#")) names.add(line.strip().replace('/', '.'));
        }
        List<String> missing = new ArrayList<>();
        for (String n : names) {
            try {
                Class.forName(n, false, getClass().getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                missing.add(n);
            }
        }
        assertTrue(names.size() > 1000, "the list names the libraries' classes too: " + names.size());
        assertTrue(missing.size() * 20 < names.size(), missing.size() + " of " + names.size() + " no longer load, e.g. " + missing.subList(0, Math.min(10, missing.size())));
    }
}
