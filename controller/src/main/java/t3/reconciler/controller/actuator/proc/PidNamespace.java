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
     * SIGKILL to a {@link #wrap}ped run and everything under it, at once: its init ignores SIGTERM (an init without a
     * handler does), and {@code unshare} ignores it while it waits, so a polite stop would only wait out a grace period.
     */
    public static void kill(ProcessHandle run) {
        List<ProcessHandle> tree = new ArrayList<>(run.descendants().toList());
        tree.add(0, run);
        for (ProcessHandle p : tree) p.destroyForcibly();
        for (ProcessHandle p : tree) {
            try {
                p.onExit().get(EXIT_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException | TimeoutException e) {
                // stuck in D state: nothing more a signal can do
            }
        }
    }
}
