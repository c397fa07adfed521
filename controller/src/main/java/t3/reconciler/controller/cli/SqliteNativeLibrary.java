package t3.reconciler.controller.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.sqlite.util.LibraryLoaderUtil;

/**
 * {@code java -cp t3-reconciler.jar t3.reconciler.controller.cli.SqliteNativeLibrary DIR}: copies sqlite-jdbc's native
 * library for this OS and architecture out of the jar into DIR (packaging/install.sh, at install time).
 *
 * <p>Without it, every process that opens SQLite writes the ~1 MB library to a temporary file, reads it back to
 * compare and loads that (~40 ms of a ~0.35 s {@code run --once}); the launcher points {@code org.sqlite.lib.path} at
 * DIR when the copy is newer than the jar. A missing or unloadable copy costs nothing: sqlite-jdbc then extracts as
 * before.
 */
public final class SqliteNativeLibrary {
    private SqliteNativeLibrary() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: java -cp t3-reconciler.jar " + SqliteNativeLibrary.class.getName() + " DIR");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        String resource = LibraryLoaderUtil.getNativeLibResourcePath() + "/" + LibraryLoaderUtil.getNativeLibName();
        try (InputStream in = SqliteNativeLibrary.class.getResourceAsStream(resource)) {
            if (in == null) {
                System.err.println("no native SQLite library in the jar for this platform: " + resource);
                System.exit(1);
            }
            Files.createDirectories(dir);
            // Beside the final name, then renamed: a process starting meanwhile loads the whole file or none.
            Path tmp = Files.createTempFile(dir, ".lib", ".tmp");
            try {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                Files.move(tmp, dir.resolve(LibraryLoaderUtil.getNativeLibName()), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
    }
}
