package t3.reconciler.controller.actuator.proc;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Ends a process and everything it started: npm and {@code t3 serve} both leave children behind otherwise. */
public final class ProcessTree {
    private ProcessTree() {}

    /**
     * SIGTERM to the process and its descendants, up to {@code grace} for the root to go, then SIGKILL to whatever
     * of the tree is left. The descendants are listed before anything is signalled, because once the root dies they
     * are re-parented and can no longer be found from it.
     */
    public static void kill(ProcessHandle root, Duration grace) {
        List<ProcessHandle> tree = new ArrayList<>(root.descendants().toList());
        tree.add(0, root);
        for (ProcessHandle p : tree) p.destroy();
        try {
            root.onExit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // fall through to SIGKILL
        }
        // Children spawned during the grace period are found from the root if it is still there.
        root.descendants().forEach(tree::add);
        for (ProcessHandle p : tree) if (p.isAlive()) p.destroyForcibly();
        for (ProcessHandle p : tree) {
            try {
                p.onExit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException | TimeoutException e) {
                // a process stuck in D state; nothing more a signal can do
            }
        }
    }

    public static void kill(Process p, Duration grace) { kill(p.toHandle(), grace); }
}
