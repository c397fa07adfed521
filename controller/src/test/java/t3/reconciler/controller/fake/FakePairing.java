package t3.reconciler.controller.fake;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import t3.reconciler.controller.actuator.HealthCheck;
import t3.reconciler.controller.actuator.Pairing;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.User;
import t3.reconciler.model.Version;

/**
 * A user pairs with their server when it is up, the pid asked about is its main pid, and the user was not told to fail
 * on that version: the checks the real analysis makes, minus the HTTP.
 */
public final class FakePairing implements Pairing {
    private final FakeActuators fx;
    private final FakeReleases releases;
    private final FakeUnits units;
    private final Set<String> failing = new HashSet<>();

    FakePairing(FakeActuators fx, FakeReleases releases, FakeUnits units) {
        this.fx = fx;
        this.releases = releases;
        this.units = units;
    }

    /** {@code user} cannot pair once restarted onto {@code v}: the canary fails. */
    public synchronized void failCanary(String user, Version v) { failing.add(user + "@" + v); }

    @Override
    public HealthCheck.Result verify(User user, long mainPid, Path baseDir, Path t3Binary, DesiredState spec) {
        Version v = releases.versionOf(t3Binary).orElseThrow(() -> new IllegalStateException("pairing with " + t3Binary + ", not a release binary"));
        fx.enter("pairing.verify " + user.name() + "@" + v);
        if (units.runs(user.name()).isEmpty()) return HealthCheck.Result.fail("start", user.name() + "'s server is down");
        synchronized (this) {
            if (failing.contains(user.name() + "@" + v)) return HealthCheck.Result.fail("pairing", user.name() + " cannot pair on " + v + " (told to fail)");
        }
        return HealthCheck.Result.pass(user.name() + " paired (pid " + mainPid + ")");
    }
}
