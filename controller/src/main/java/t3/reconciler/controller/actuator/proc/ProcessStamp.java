package t3.reconciler.controller.actuator.proc;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A process as the kernel names it for good: its pid and its start time ({@code /proc/PID/stat} field 22, in clock
 * ticks since boot). A pid alone may by now belong to anyone's process; the pair cannot be reused while the machine is
 * up, so a stamp journaled before a crash still designates our process, or nothing, after the restart.
 */
public record ProcessStamp(long pid, long startTicks) {
    public static Optional<ProcessStamp> of(long pid) {
        try {
            String stat = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "stat")), StandardCharsets.UTF_8);
            // The command name (field 2) is in parentheses and may itself hold spaces and ')': fields follow the last ')'.
            String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // A zombie has exited: it runs nothing and holds nothing open, it only waits to be reaped.
            if (after[0].equals("Z") || after[0].equals("X")) return Optional.empty();
            return Optional.of(new ProcessStamp(pid, Long.parseLong(after[22 - 3])));
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // gone
        }
    }

    /** The process, if this very process (not a later one with the same pid) is still there. */
    public Optional<ProcessHandle> alive() {
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        return h.isPresent() && of(pid).equals(Optional.of(this)) ? h : Optional.empty();
    }

    /**
     * SIGKILL to it and its descendants if it is still this process (a {@link PidNamespace} run: its namespace goes
     * with it); false when it was already gone, or its pid now belongs to another process, which is left alone.
     */
    public boolean kill() {
        Optional<ProcessHandle> h = alive();
        h.ifPresent(PidNamespace::kill);
        return h.isPresent();
    }
}
