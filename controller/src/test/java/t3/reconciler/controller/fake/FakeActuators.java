package t3.reconciler.controller.fake;

import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.loop.Actuators;
import t3.reconciler.model.Version;

/**
 * An in-memory machine behind every actuator interface: systemd units that remember which build they started on, a
 * registry with dist-tags, versions side by side with one active link, backups per user, health verdicts per version
 * and pairing per user. Each part keeps state across calls, so a whole bump (or its rollback) runs on it in process,
 * and each can be told to fail at one step. Every call is recorded ({@link #calls}) and passed to a hook first, outside
 * any lock, so a test can hold the loop at an exact step with a latch.
 */
public final class FakeActuators {
    public final FakeUnits units;
    public final FakeBusyProbe busy;
    public final FakeRegistry registry;
    public final FakeReleases releases;
    public final FakeBackups backups;
    public final FakeHealthCheck health;
    public final FakePairing pairing;
    private final List<String> calls = new ArrayList<>();
    private volatile Consumer<String> hook = call -> {};

    /**
     * @param root         where paths the fakes hand out live (version prefixes, backup files); nothing is written there
     * @param unitTemplate e.g. {@code t3-serve@{user}.service}, as in the desired state
     */
    public FakeActuators(Path root, String unitTemplate, Clock clock) {
        this.releases = new FakeReleases(this, root.resolve("versions"));
        this.units = new FakeUnits(this, unitTemplate, releases, clock);
        this.busy = new FakeBusyProbe(this, units);
        this.registry = new FakeRegistry(this, releases);
        this.backups = new FakeBackups(this, root.resolve("backups"), clock);
        this.health = new FakeHealthCheck(this, releases);
        this.pairing = new FakePairing(this, releases, units);
    }

    /**
     * The host most loop tests start from: {@code v} installed and linked, each user's server running it, the nightly
     * tag on it, and today's daily backups taken, so that a pass does only what the test is about.
     */
    public FakeActuators settledOn(t3.reconciler.model.Version v, java.util.List<String> users) {
        releases.activeNow(v);
        registry.publish(t3.reconciler.model.Channel.NIGHTLY, v);
        for (String u : users) {
            units.running(u);
            backups.existing(u, v);
        }
        return this;
    }

    public Actuators actuators() { return new Actuators(units, busy, registry, releases, backups, health, pairing); }

    /** This host's fleet port on a shared in-memory etcd (several hosts in one JVM make a fleet). */
    public FakeFleet fleet(FakeEtcd etcd, String host, int maxConcurrentHosts) { return new FakeFleet(etcd, host, maxConcurrentHosts, this); }

    // The failures tests ask for most, here so a test reads as one sentence; each part has more.
    public void failInstall(Version v) { registry.failInstall(v); }

    public void failHealth(Version v) { health.failHealth(v); }

    public void failCanary(String user, Version v) { pairing.failCanary(user, v); }

    public void busy(String user) { busy.busy(user); }

    public void registryDown() { registry.registryDown(); }

    public void failBackup(String user) { backups.failBackup(user); }

    public void busDown() { units.busDown(); }

    /** Called with each call's name (e.g. {@code units.restart t3-serve@alice.service}) before it acts. */
    public void hook(Consumer<String> h) { this.hook = h; }

    /** Every call so far, in order, as {@code part.method target}. */
    public synchronized List<String> calls() { return List.copyOf(calls); }

    /** The calls whose name starts with {@code prefix}, e.g. {@code "units.restart"}. */
    public synchronized List<String> calls(String prefix) { return calls.stream().filter(c -> c.startsWith(prefix)).toList(); }

    void enter(String call) {
        synchronized (this) {
            calls.add(call);
        }
        hook.accept(call);
    }

    static ActuatorException outage(String what) { return ActuatorException.transientFault(what, null); }

    static ActuatorException verdict(String what) { return ActuatorException.verdict(what); }
}
