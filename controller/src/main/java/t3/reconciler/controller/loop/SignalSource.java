package t3.reconciler.controller.loop;

import java.io.IOException;
import java.nio.file.Files;
import java.util.function.Supplier;
import sun.misc.Signal;
import t3.reconciler.model.DesiredState;

/**
 * SIGHUP: reconcile now; with the override file that {@code reconcile --outside-window} writes first, the next pass may
 * start a bump outside the maintenance window (the file is consumed, so it counts once). SIGTERM: stop at the next step
 * boundary and exit 0 (the JVM's default would exit 143, which systemd counts as a failure); a shutdown hook covers
 * SIGINT the same way. Handlers are process-wide, so only the real daemon registers this source.
 */
public final class SignalSource implements TriggerSource {
    private final Supplier<DesiredState> inForce;
    private final Daemon daemon;
    private Thread hook;

    public SignalSource(Supplier<DesiredState> inForce, Daemon daemon) {
        this.inForce = inForce;
        this.daemon = daemon;
    }

    @Override
    public void start(Triggers triggers) {
        Signal.handle(new Signal("HUP"), sig -> {
            boolean override;
            try {
                override = Files.deleteIfExists(Daemon.overrideFileOf(inForce.get()));
            } catch (IOException e) {
                override = false;
            }
            if (override) triggers.fireWithWindowOverride("SIGHUP (window override)");
            else triggers.fire("SIGHUP");
        });
        Signal.handle(new Signal("TERM"), sig -> daemon.stop());
        hook = new Thread(() -> {
            daemon.stop();
            daemon.awaitStopped(java.time.Duration.ofSeconds(60));
        }, "t3r-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** The handlers stay: the process is about to exit, and a SIGTERM now must still not kill it with 143. */
    @Override
    public void close() {}
}
