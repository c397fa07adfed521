package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The JSON log a systemd unit appends to a file ({@code StandardOutput=append:}): the daemon is systemd's child, not
 * ours, so its output is read back from the file, woken by inotify on the file's directory rather than on a timer.
 */
final class UnitLog {
    /** Why waiting is pointless (the unit has failed), or empty. */
    interface Liveness {
        Optional<String> dead() throws Exception;
    }

    private final Path file;
    private final Liveness liveness;
    private final List<JsonNode> nodes = new ArrayList<>();
    private final List<String> lines = new ArrayList<>();
    private long offset;
    private String partial = "";

    UnitLog(Path file, Liveness liveness) {
        this.file = file;
        this.liveness = liveness;
    }

    /** How many lines are read so far: a later {@link #await} from here sees only what came after. */
    int mark() throws IOException {
        readNew();
        return lines.size();
    }

    /** The first JSON line at or after {@code from} that matches; fails with the log's tail on timeout. */
    JsonNode await(int from, Predicate<JsonNode> p, Duration timeout, String what) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (WatchService ws = file.getFileSystem().newWatchService()) {
            file.getParent().register(ws, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
            int i = from;
            while (true) {
                readNew();
                for (; i < nodes.size(); i++) if (p.test(nodes.get(i))) return nodes.get(i);
                Optional<String> dead = liveness.dead();
                if (dead.isPresent()) fail(dead.get() + " while waiting for: " + what + "\n" + tail());
                long left = deadline - System.nanoTime();
                if (left <= 0) fail("timed out after " + timeout.toSeconds() + " s waiting for: " + what + "\n" + tail());
                WatchKey key = ws.poll(Math.min(left, TimeUnit.SECONDS.toNanos(5)), TimeUnit.NANOSECONDS);
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                }
            }
        }
    }

    String tail() {
        return "--- " + file + " tail ---\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }

    private void readNew() throws IOException {
        if (!Files.exists(file)) return;
        byte[] all = Files.readAllBytes(file);
        if (all.length <= offset) return;
        String chunk = partial + new String(all, (int) offset, (int) (all.length - offset), StandardCharsets.UTF_8);
        offset = all.length;
        int nl;
        while ((nl = chunk.indexOf('\n')) >= 0) {
            String l = chunk.substring(0, nl);
            chunk = chunk.substring(nl + 1);
            lines.add(l);
            JsonNode n;
            try {
                n = l.startsWith("{") ? DaemonProcess.JSON.readTree(l) : DaemonProcess.JSON.createObjectNode();
            } catch (IOException e) {
                n = DaemonProcess.JSON.createObjectNode();
            }
            nodes.add(n);
        }
        partial = chunk;
    }
}
