package t3.reconciler.controller.loop;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import t3.reconciler.controller.log.Log;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.DesiredStateLoader;
import t3.reconciler.model.FileTrust;
import t3.reconciler.model.InvalidDesiredStateException;

/**
 * The desired state in force. Re-reads the file, and the users file it names, when their bytes change; an invalid
 * edit is logged with its file:line:column messages, counted, and ignored: the last valid state stays in force. Every
 * look re-checks who may write them ({@link FileTrust}), as at start: a file someone else could have written is
 * refused, whatever it says, and the last valid state stays in force. The keys only a restart applies
 * ({@link RestartKeys}) keep their started values and are reported as "restart needed".
 */
public final class SpecHolder {
    private static final byte[] NONE = new byte[0];
    private final Path file;
    private final Log log;
    private final DesiredState started;
    private DesiredState current;
    private byte[] seen;
    private byte[] seenUsers;
    private byte[] rejected;
    private byte[] rejectedUsers;
    /** The trust refusal last logged, so a file left writable is said once, not at every look. */
    private String refusal;
    /** What the files held when they were last refused: never applied, even once they are trusted again. */
    private byte[] tainted;
    private byte[] taintedUsers;
    private long invalidEdits;
    private boolean lastValid = true;
    private List<String> restartNeeded = List.of();

    public SpecHolder(Path file, DesiredState initial, Log log) throws IOException {
        this.file = file;
        this.log = log;
        this.started = initial;
        this.current = initial;
        this.seen = Files.readAllBytes(file);
        this.seenUsers = usersBytes(initial.usersFile());
    }

    /** The state in force after looking at the files once more (cheap: reads compared by bytes, a few stats). */
    public synchronized DesiredState current() {
        byte[] now;
        try {
            now = Files.readAllBytes(file);
        } catch (IOException e) {
            return current; // mid-rename or deleted: keep what is in force
        }
        byte[] users = usersBytes(current.usersFile());
        // Checked after the read: what was read was written while the file was (or was not) this trusted.
        Optional<String> untrusted = untrusted(file).or(() -> current.usersFile().flatMap(SpecHolder::untrusted));
        if (untrusted.isPresent()) {
            if (!(Arrays.equals(now, seen) && Arrays.equals(users, seenUsers))) {
                tainted = now;
                taintedUsers = users;
            }
            refuse(untrusted.get());
            return current;
        }
        // Bytes read while someone else could write the files may be theirs: locking the files again does not make
        // them the operator's. Only a new write, made while the files are root's alone, is taken.
        if (Arrays.equals(now, tainted) && Arrays.equals(users, taintedUsers)) {
            refuse(file + ": holds what was read while others could write it; write it again to apply it");
            return current;
        }
        if (refusal != null) {
            refusal = null;
            tainted = null;
            taintedUsers = null;
            log.info("desired-state", Log.kv("file", file, "outcome", "trusted", "reason", "only root may write it again"));
        }
        if (Arrays.equals(now, seen) && Arrays.equals(users, seenUsers)) {
            if (!lastValid) { // an invalid edit undone: the file is back to the state in force
                rejected = null;
                lastValid = true;
                log.info("desired-state", Log.kv("file", file, "outcome", "restored", "reason", "the invalid edit was undone; the file is the desired state in force again"));
            }
            return current;
        }
        if (Arrays.equals(now, rejected) && Arrays.equals(users, rejectedUsers)) return current;
        try {
            DesiredState edited = DesiredStateLoader.parse(new String(now, StandardCharsets.UTF_8), file);
            // A users file named for the first time was not read above; its bytes now are at worst newer than parsed,
            // which only costs one more parse at the next look.
            if (!edited.usersFile().equals(current.usersFile())) users = usersBytes(edited.usersFile());
            restartNeeded = RestartKeys.changed(started, edited);
            current = RestartKeys.inForce(started, edited);
            seen = now;
            seenUsers = users;
            rejected = null;
            lastValid = true;
            if (restartNeeded.isEmpty()) {
                log.info("desired-state", Log.kv("file", file, "outcome", "applied", "reason", "the file changed and is valid"));
            } else {
                log.warn("desired-state", Log.kv("file", file, "outcome", "restart-needed", "restartNeeded", String.join(",", restartNeeded),
                        "reason", "the file changed and is valid; every other key is applied, but " + String.join(", ", restartNeeded)
                                + " keep their values in force until the controller restarts"));
            }
        } catch (InvalidDesiredStateException e) {
            rejected = now;
            rejectedUsers = users;
            invalidEdits++;
            lastValid = false;
            log.error("desired-state", Log.kv("file", file, "outcome", "rejected", "reason", "invalid edit ignored; the last valid desired state stays in force", "errors", e.getMessage()));
        }
        return current;
    }

    private void refuse(String why) {
        lastValid = false;
        if (why.equals(refusal)) return;
        refusal = why;
        invalidEdits++;
        log.error("desired-state", Log.kv("file", file, "outcome", "refused", "reason", "not trusted, whatever it says; the last valid desired state stays in force", "errors", why));
    }

    private static Optional<String> untrusted(Path f) { return FileTrust.problem(f).map(why -> f + ": " + why); }

    private static byte[] usersBytes(Optional<Path> usersFile) {
        if (usersFile.isEmpty()) return NONE;
        try {
            return Files.readAllBytes(usersFile.get());
        } catch (IOException e) {
            return ("unreadable: " + e.getMessage()).getBytes(StandardCharsets.UTF_8); // differs from any bytes seen: the parse reports it
        }
    }

    /** The state in force, without looking at the files again (for readers outside the pass: metrics, the alerter). */
    public synchronized DesiredState inForce() { return current; }

    /** The edited keys that keep their started values until a restart ({@link RestartKeys}); empty when none. */
    public synchronized List<String> restartNeeded() { return new ArrayList<>(restartNeeded); }

    public synchronized long invalidEdits() { return invalidEdits; }

    public synchronized boolean lastEditValid() { return lastValid; }

    public Path file() { return file; }
}
