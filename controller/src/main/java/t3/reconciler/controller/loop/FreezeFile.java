package t3.reconciler.controller.loop;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** The operator freeze file, written by the operator's commands and by the breaker alike: atomically, so a reader never sees half a reason. */
public final class FreezeFile {
    private FreezeFile() {}

    public static void write(Path file, String reason) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, reason.endsWith("\n") ? reason : reason + "\n");
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
