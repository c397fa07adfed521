package t3.reconciler.controller.actuator.proc;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Candidate code in a PID namespace of its own ({@code unshare --pid --fork --kill-child}): the command is the
 * namespace's init, and when it exits, or {@code unshare} dies, the kernel kills every process left in the namespace.
 * A daemon an install script or a server leaves behind ({@code setsid}, double fork) cannot outlive the run, and no
 * other process of the same account (another run, another controller) is touched, as killing by uid would.
 */
public final class PidNamespace {
    static final String UNSHARE = "/usr/bin/unshare";
    private static final Duration EXIT_WAIT = Duration.ofSeconds(10);

    private PidNamespace() {}

    public static List<String> wrap(List<String> argv) {
        List<String> out = new ArrayList<>(List.of(UNSHARE, "--pid", "--fork", "--kill-child", "--"));
        out.addAll(argv);
        return out;
    }

    /**
     * Ends a {@link #wrap}ped run and everything in its namespace. SIGKILL goes to the namespace's init (unshare's
     * child): the kernel then kills every other process in the namespace, and unshare, which waits for its init,
     * exits only once all of them are gone. So waiting for unshare alone is exact, and prompt when it is our child
     * (a non-child is only polled, at 300 ms and up). SIGTERM would not do: an init without a handler ignores it, and
     * unshare ignores it while it waits.
     */
    public static void kill(ProcessHandle run) {
        run.children().forEach(ProcessHandle::destroyForcibly);
        if (awaitExit(run)) return;
        // Not forked yet, or stuck: unshare itself (--kill-child takes its init along), and whatever is still seen.
        run.descendants().forEach(ProcessHandle::destroyForcibly);
        run.destroyForcibly();
        awaitExit(run);
    }

    private static boolean awaitExit(ProcessHandle p) {
        try {
            p.onExit().get(EXIT_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException | TimeoutException e) {
            return false;
        }
    }
}
