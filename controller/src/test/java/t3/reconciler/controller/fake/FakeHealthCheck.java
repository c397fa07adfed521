package t3.reconciler.controller.fake;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import t3.reconciler.controller.actuator.HealthCheck;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.Version;

/** The throwaway server's verdict per version: passes unless told otherwise. Reports its scratch directory like the real one. */
public final class FakeHealthCheck implements HealthCheck {
    private final FakeActuators fx;
    private final FakeReleases releases;
    private final Map<Version, String> failing = new HashMap<>();

    FakeHealthCheck(FakeActuators fx, FakeReleases releases) {
        this.fx = fx;
        this.releases = releases;
    }

    /** {@code v}'s check fails at the migration gate. */
    public synchronized void failHealth(Version v) { failing.put(v, "migration"); }

    public synchronized void failHealth(Version v, String gate) { failing.put(v, gate); }

    @Override
    public Result check(Path t3Binary, Path seedBackup, DesiredState.HealthCheck spec, Leftovers leftovers) {
        Version v = releases.versionOf(t3Binary).orElseThrow(() -> new IllegalStateException("health check of " + t3Binary + ", not a release binary"));
        fx.enter("health.check " + v);
        // No server process: a made-up pid could name a real process that Recovery would then be asked to kill.
        leftovers.record(spec.scratchDir().resolve("t3-health-" + v), Optional.empty());
        synchronized (this) {
            String gate = failing.get(v);
            return gate == null ? Result.pass(v + " served pairing on a copy of " + seedBackup.getFileName())
                    : Result.fail(gate, v + " failed its " + gate + " check (told to fail)");
        }
    }
}
