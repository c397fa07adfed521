package t3.reconciler.controller.loop;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import t3.reconciler.controller.log.Log;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.DesiredStateLoader;
import t3.reconciler.model.InvalidDesiredStateException;

/**
 * The desired state in force. Re-reads the file when its bytes change; an invalid edit is logged with its
 * file:line:column messages, counted, and ignored: the last valid state stays in force.
 */
public final class SpecHolder {
    private final Path file;
    private final Log log;
    private DesiredState current;
    private byte[] seen;
    private byte[] rejected;
    private long invalidEdits;
    private boolean lastValid = true;

    public SpecHolder(Path file, DesiredState initial, Log log) throws IOException {
        this.file = file;
        this.log = log;
        this.current = initial;
        this.seen = Files.readAllBytes(file);
    }

    /** The state in force after looking at the file once more (cheap: one read, compared by bytes). */
    public synchronized DesiredState current() {
        byte[] now;
        try {
            now = Files.readAllBytes(file);
        } catch (IOException e) {
            return current; // mid-rename or deleted: keep what is in force
        }
        if (Arrays.equals(now, seen)) {
            if (!lastValid) { // an invalid edit undone: the file is back to the state in force
                rejected = null;
                lastValid = true;
                log.info("desired-state", Log.kv("file", file, "outcome", "restored", "reason", "the invalid edit was undone; the file is the desired state in force again"));
            }
            return current;
        }
        if (Arrays.equals(now, rejected)) return current;
        try {
            current = DesiredStateLoader.parse(new String(now, java.nio.charset.StandardCharsets.UTF_8), file);
            seen = now;
            rejected = null;
            lastValid = true;
            log.info("desired-state", Log.kv("file", file, "outcome", "applied", "reason", "the file changed and is valid"));
        } catch (InvalidDesiredStateException e) {
            rejected = now;
            invalidEdits++;
            lastValid = false;
            log.error("desired-state", Log.kv("file", file, "outcome", "rejected", "reason", "invalid edit ignored; the last valid desired state stays in force", "errors", e.getMessage()));
        }
        return current;
    }

    public synchronized long invalidEdits() { return invalidEdits; }

    public synchronized boolean lastEditValid() { return lastValid; }

    public Path file() { return file; }
}
