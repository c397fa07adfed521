package t3.reconciler.controller.loop;

import java.io.IOException;
import java.nio.file.Files;
import java.util.function.Supplier;
import sun.misc.Signal;
import sun.misc.SignalHandler;
import t3.reconciler.controller.log.Log;
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
    private final Log log;
    private Thread hook;

    public SignalSource(Supplier<DesiredState> inForce, Daemon daemon, Log log) {
        this.inForce = inForce;
        this.daemon = daemon;
        this.log = log;
    }

    @Override
    public void start(Triggers triggers) {
        SignalHandler before = Signal.handle(new Signal("HUP"), sig -> {
            boolean override;
            try {
                override = Files.deleteIfExists(Daemon.overrideFileOf(inForce.get()));
            } catch (IOException e) {
                override = false;
            }
            if (override) triggers.fireWithWindowOverride("SIGHUP (window override)");
            else triggers.fire("SIGHUP");
        });
        // A JVM started with SIGHUP ignored (under nohup, or a parent that ignores it) keeps it ignored and installs no
        // handler, silently: say so once, since 'systemctl reload' and 'reconcile' would then do nothing.
        if (before == SignalHandler.SIG_IGN) {
            log.warn("sighup-ignored", Log.kv("reason", "this process was started with SIGHUP ignored (nohup?), so 'systemctl reload' and"
                    + " 't3-reconciler reconcile' cannot wake it; edits of the desired-state file and the resync timer still do: start it without nohup"));
        }
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
