package t3.reconciler.controller.fake;

import java.nio.file.Path;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.Packages;
import t3.reconciler.model.Channel;
import t3.reconciler.model.Version;

/** An npm registry (published versions, dist-tags) and npm installing from it into the fake releases' prefixes. */
public final class FakeRegistry implements Packages {
    private final FakeActuators fx;
    private final FakeReleases releases;
    private final Set<Version> published = new HashSet<>();
    private final Map<Channel, Version> tags = new EnumMap<>(Channel.class);
    private final Set<Version> failInstall = new HashSet<>();
    /** A build whose binary reports another version than it was published as. */
    private final Map<Version, Version> misreports = new HashMap<>();
    private boolean down;

    FakeRegistry(FakeActuators fx, FakeReleases releases) {
        this.fx = fx;
        this.releases = releases;
    }

    /** Publishes {@code v} and points {@code channel} at it. */
    public synchronized FakeRegistry publish(Channel channel, Version v) {
        published.add(v);
        tags.put(channel, v);
        return this;
    }

    public synchronized FakeRegistry publish(Version v) {
        published.add(v);
        return this;
    }

    /** Every call fails as an outage (connection refused) until {@link #registryUp}. */
    public synchronized void registryDown() { down = true; }

    public synchronized void registryUp() { down = false; }

    /** npm fails to install {@code v} (its install script exits non-zero): a verdict on the build. */
    public synchronized void failInstall(Version v) { failInstall.add(v); }

    public synchronized void misreport(Version v, Version reports) { misreports.put(v, reports); }

    @Override
    public Version resolve(String pkg, Channel channel) throws ActuatorException {
        fx.enter("packages.resolve " + channel);
        synchronized (this) {
            if (down) throw FakeActuators.outage("registry unreachable: connection refused");
            Version v = tags.get(channel);
            if (v == null) throw FakeActuators.verdict(pkg + " has no dist-tag " + channel);
            return v;
        }
    }

    @Override
    public void install(String pkg, Version version, Path prefix) throws ActuatorException {
        fx.enter("packages.install " + version);
        synchronized (this) {
            releases.clear(version); // the executor emptied the prefix just before
            if (down) throw FakeActuators.outage("registry unreachable: connection refused");
            if (!published.contains(version)) throw FakeActuators.verdict("npm: " + pkg + "@" + version + " is not in this registry");
            if (!prefix.equals(releases.prefixOf(version))) throw new IllegalStateException("install of " + version + " into " + prefix + ", not its own prefix");
            if (failInstall.contains(version)) throw FakeActuators.verdict("npm: the install script of " + pkg + "@" + version + " exited with 1 (told to fail)");
            releases.unpack(version, misreports.getOrDefault(version, version));
        }
    }

    @Override
    public Optional<Version> installedVersion(String pkg, Path prefix) {
        fx.enter("packages.installedVersion " + prefix.getFileName());
        Version v = Version.parse(prefix.getFileName().toString());
        return releases.unpacked(v);
    }
}
