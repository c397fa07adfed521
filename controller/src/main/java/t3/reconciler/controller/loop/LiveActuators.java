package t3.reconciler.controller.loop;

import java.nio.file.Path;
import java.util.function.Function;
import t3.reconciler.controller.log.Log;
import t3.reconciler.model.DesiredState;

/**
 * The actuators for the desired state in force: rebuilt (the old ones closed) when an edit changes a key they are
 * built from, so an edit of the registry, the versions directory or the backup directory acts at the next step, not
 * at the next restart. Called only between steps, by the one worker thread.
 */
public final class LiveActuators implements AutoCloseable {
    /** Everything {@link Actuators} are built from; an edit of anything else leaves them as they are. */
    public record Settings(String packageName, DesiredState.Install install, Path backupDir, String bus) {
        public static Settings of(DesiredState s) { return new Settings(s.packageName(), s.install(), s.backup().dir(), s.controller().bus()); }
    }

    private final Function<DesiredState, Actuators> build;
    private final Log log;
    private Settings settings;
    private Actuators current;

    public LiveActuators(Function<DesiredState, Actuators> build, Log log) {
        this.build = build;
        this.log = log;
    }

    public synchronized Actuators forSpec(DesiredState s) {
        Settings wanted = Settings.of(s);
        if (wanted.equals(settings)) return current;
        Actuators next = build.apply(s);
        if (current != null) {
            current.units().close();
            log.info("actuators", Log.kv("outcome", "rebuilt", "reason", "the desired state changed what they are built from", "from", settings, "to", wanted));
        }
        current = next;
        settings = wanted;
        return current;
    }

    @Override
    public synchronized void close() {
        if (current != null) current.units().close();
    }
}
