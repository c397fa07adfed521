package t3.reconciler.controller.actuator;

import java.nio.file.Path;
import java.util.Optional;
import t3.reconciler.model.Channel;
import t3.reconciler.model.Version;

/** The npm registry and installs into a prefix. Only validated {@link Version}s reach the command line. */
public interface Packages {
    /** What {@code pkg@channel} points at now. Transient failure when the registry is unreachable. */
    Version resolve(String pkg, Channel channel) throws ActuatorException;

    /** Installs exactly {@code pkg@version} into {@code prefix} (npm {@code --prefix}); {@code prefix/bin/<pkg>} is the binary. */
    void install(String pkg, Version version, Path prefix) throws ActuatorException;

    /** What {@code prefix/bin/<pkg> --version} reports, or empty if nothing runnable is there. */
    Optional<Version> installedVersion(String pkg, Path prefix) throws ActuatorException;
}
