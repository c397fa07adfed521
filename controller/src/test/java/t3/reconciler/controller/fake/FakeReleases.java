package t3.reconciler.controller.fake;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.Releases;
import t3.reconciler.model.Version;

/** Versions side by side and the one active link, in memory; the prefixes are paths under a root nobody writes to. */
public final class FakeReleases implements Releases {
    private final FakeActuators fx;
    private final Path root;
    /** What npm put in a prefix (complete or not): the fake registry writes here, prune and a failed install clear it. */
    private final java.util.Map<Version, Version> unpacked = new java.util.HashMap<>();
    private final Set<Version> complete = new HashSet<>();
    private Optional<Version> active = Optional.empty();
    private boolean failLink;

    FakeReleases(FakeActuators fx, Path root) {
        this.fx = fx;
        this.root = root;
    }

    /** A version already installed and complete, e.g. what the machine runs before the test. */
    public synchronized FakeReleases installed(Version v) {
        unpacked.put(v, v);
        complete.add(v);
        return this;
    }

    /** Points the link at {@code v} without going through the loop (the machine as the test finds it). */
    public synchronized FakeReleases activeNow(Version v) {
        installed(v);
        active = Optional.of(v);
        return this;
    }

    /** The next {@link #activate} (the switch or the switch back) is refused. */
    public synchronized void failLink(boolean fail) { this.failLink = fail; }

    public synchronized Optional<Version> activeVersion() { return active; }

    public synchronized Set<Version> completeVersions() { return Set.copyOf(complete); }

    @Override
    public Path prefixOf(Version v) { return root.resolve(v.toString()); }

    @Override
    public Path binaryOf(Version v) { return prefixOf(v).resolve("bin/t3"); }

    /** Which version a binary path belongs to: how the fake health check and pairing know what they test. */
    public Optional<Version> versionOf(Path binary) {
        Path prefix = binary.getParent() == null ? null : binary.getParent().getParent();
        if (prefix == null || !root.equals(prefix.getParent())) return Optional.empty();
        return Optional.of(Version.parse(prefix.getFileName().toString()));
    }

    synchronized void unpack(Version v, Version reports) { unpacked.put(v, reports); }

    synchronized Optional<Version> unpacked(Version v) { return Optional.ofNullable(unpacked.get(v)); }

    synchronized void clear(Version v) {
        unpacked.remove(v);
        complete.remove(v);
    }

    @Override
    public Set<Version> present() {
        fx.enter("releases.present");
        synchronized (this) {
            return Set.copyOf(complete);
        }
    }

    @Override
    public void markComplete(Version v) throws ActuatorException {
        fx.enter("releases.markComplete " + v);
        synchronized (this) {
            if (!unpacked.containsKey(v)) throw FakeActuators.verdict("nothing installed in " + prefixOf(v));
            complete.add(v);
        }
    }

    @Override
    public Optional<Version> active() {
        fx.enter("releases.active");
        synchronized (this) {
            return active;
        }
    }

    @Override
    public void activate(Version v) throws ActuatorException {
        fx.enter("releases.activate " + v);
        synchronized (this) {
            if (failLink) throw FakeActuators.verdict("cannot switch the link to " + v + " (told to fail)");
            if (!complete.contains(v)) throw FakeActuators.verdict(v + " is not installed completely");
            active = Optional.of(v);
        }
    }

    @Override
    public void prune(Set<Version> keep) {
        fx.enter("releases.prune " + keep);
        synchronized (this) {
            for (Version v : Set.copyOf(unpacked.keySet())) if (!keep.contains(v) && !active.equals(Optional.of(v))) clear(v);
        }
    }
}
