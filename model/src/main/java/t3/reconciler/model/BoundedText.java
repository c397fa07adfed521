package t3.reconciler.model;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads a small UTF-8 text file without trusting its size: reading stops one byte past the limit, so
 * {@code /dev/zero} or a file that grows while read cannot exhaust memory.
 */
final class BoundedText {
    private BoundedText() {}

    static final class TooLarge extends IOException {
        TooLarge() { super("larger than 1 MiB"); }
    }

    static String read(Path file, long maxBytes) throws IOException {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes((int) maxBytes + 1);
        }
        if (bytes.length > maxBytes) throw new TooLarge();
        return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes)).toString();
    }

    /** Why a read failed, in words for the operator. */
    static String why(IOException e) {
        if (e instanceof TooLarge) return "is larger than 1 MiB";
        if (e instanceof CharacterCodingException) return "is not UTF-8 text";
        if (e instanceof NoSuchFileException) return "cannot be read: no such file";
        if (e instanceof AccessDeniedException) return "cannot be read: permission denied";
        return "cannot be read: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    }
}
