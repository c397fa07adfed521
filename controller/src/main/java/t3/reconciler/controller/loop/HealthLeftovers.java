package t3.reconciler.controller.loop;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import t3.reconciler.controller.actuator.proc.DescriptorTrees;
import t3.reconciler.controller.actuator.proc.ProcessStamp;

/**
 * What a health check interrupted by a crash left, as its journal names it: the server (pid and start time) and the
 * scratch dir (its exact path). Only these are touched: no command-line matching, no globbing in a scratch dir that
 * anyone may write to, so another user's process or directory that merely looks like ours is left alone.
 */
final class HealthLeftovers {
    private HealthLeftovers() {}

    /** @param detail the journal entry's detail: {@code scratch}, {@code serverPid}, {@code serverStartTicks} */
    static String clean(JsonNode detail) {
        StringBuilder done = new StringBuilder();
        if (detail.has("serverPid") && detail.has("serverStartTicks")) {
            ProcessStamp server = new ProcessStamp(detail.get("serverPid").asLong(), detail.get("serverStartTicks").asLong());
            done.append(server.kill() ? "killed the throwaway server (pid " + server.pid() + ")" : "the throwaway server (pid " + server.pid() + ") was already gone");
        } else {
            done.append("no throwaway server was started");
        }
        if (!detail.hasNonNull("scratch")) return done.append("; no scratch dir was made").toString();
        Path scratch = Path.of(detail.get("scratch").asText());
        try {
            // Ours was root's: a directory by that name owned by anyone else was put there after ours went.
            if ((Integer) Files.getAttribute(scratch, "unix:uid", LinkOption.NOFOLLOW_LINKS) != 0) {
                return done.append("; left ").append(scratch).append(" alone: it is not root's, so not the one we made").toString();
            }
            DescriptorTrees.delete(scratch); // refuses a link: it was a directory of ours, or it is not touched
            return done.append(", removed ").append(scratch).toString();
        } catch (NoSuchFileException e) {
            return done.append("; ").append(scratch).append(" was already gone").toString();
        } catch (IOException e) {
            return done.append("; could not remove ").append(scratch).append(": ").append(e.getMessage()).toString();
        }
    }
}
