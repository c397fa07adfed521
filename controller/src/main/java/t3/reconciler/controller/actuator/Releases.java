package t3.reconciler.controller.actuator;

import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import t3.reconciler.model.Version;

/**
 * Versions side by side under one directory ({@code <versionsDir>/<version>}) and the global link that says which
 * one users run. Switching is one atomic {@code rename(2)} of a symlink, so rollback never needs the registry.
 */
public interface Releases {
    /** The prefix a version lives in (it may not exist yet). */
    Path prefixOf(Version v);

    /** The binary inside a version's prefix. */
    Path binaryOf(Version v);

    /** Versions whose prefix holds a complete install (marker written after install succeeded). */
    Set<Version> present() throws ActuatorException;

    /** Marks a prefix complete after a successful install. */
    void markComplete(Version v) throws ActuatorException;

    /** The version the global link points at, if it points into the versions directory. */
    Optional<Version> active() throws ActuatorException;

    /** Atomically points the global link at {@code v}'s binary. */
    void activate(Version v) throws ActuatorException;

    /** Deletes prefixes of versions not in {@code keep}. */
    void prune(Set<Version> keep) throws ActuatorException;
}
