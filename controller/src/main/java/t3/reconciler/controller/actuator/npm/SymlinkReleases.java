package t3.reconciler.controller.actuator.npm;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.Releases;
import t3.reconciler.controller.actuator.proc.FileTrees;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.Version;

/**
 * {@link Releases} as {@code <versionsDir>/<version>/} npm prefixes and one symlink ({@code link}) to the active
 * version's binary. A prefix counts only once {@link #MARKER} is in it, so a half-done install is never activated.
 */
public final class SymlinkReleases implements Releases {
    public static final String MARKER = ".t3-reconciler-complete";

    private final Path versionsDir;
    private final Path link;
    private final String binName;

    public SymlinkReleases(Path versionsDir, Path link, String binName) {
        this.versionsDir = versionsDir.toAbsolutePath().normalize();
        this.link = link.toAbsolutePath().normalize();
        this.binName = binName;
    }

    public static SymlinkReleases from(DesiredState spec) {
        return new SymlinkReleases(spec.install().versionsDir(), spec.install().link(), new PackageName(spec.packageName()).binName());
    }

    @Override
    public Path prefixOf(Version v) { return versionsDir.resolve(v.toString()); }

    @Override
    public Path binaryOf(Version v) { return prefixOf(v).resolve("bin").resolve(binName); }

    @Override
    public Set<Version> present() throws ActuatorException {
        Set<Version> out = new HashSet<>();
        if (!Files.isDirectory(versionsDir)) return out;
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(versionsDir)) {
            for (Path d : dirs) {
                String name = d.getFileName().toString();
                if (Version.isValid(name) && Files.isRegularFile(d.resolve(MARKER))) out.add(Version.parse(name));
            }
        } catch (IOException e) {
            throw fault("cannot list " + versionsDir, e);
        }
        return out;
    }

    @Override
    public void markComplete(Version v) throws ActuatorException {
        Path prefix = prefixOf(v);
        if (!Files.isDirectory(prefix)) throw ActuatorException.verdict("no prefix for " + v + " at " + prefix);
        try {
            Path tmp = Files.createTempFile(prefix, MARKER, ".tmp");
            Files.writeString(tmp, v + "\n");
            Files.move(tmp, prefix.resolve(MARKER), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw fault("cannot mark " + prefix + " complete", e);
        }
    }

    @Override
    public Optional<Version> active() throws ActuatorException {
        Path target;
        try {
            target = Files.readSymbolicLink(link);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (java.nio.file.NotLinkException e) {
            return Optional.empty(); // a plain file there was not put by us
        } catch (IOException e) {
            throw fault("cannot read link " + link, e);
        }
        Path abs = link.getParent().resolve(target).normalize();
        if (!abs.startsWith(versionsDir) || abs.getNameCount() <= versionsDir.getNameCount()) return Optional.empty();
        String name = abs.getName(versionsDir.getNameCount()).toString();
        return Version.isValid(name) ? Optional.of(Version.parse(name)) : Optional.empty();
    }

    @Override
    public void activate(Version v) throws ActuatorException {
        if (!Files.isRegularFile(prefixOf(v).resolve(MARKER))) {
            throw ActuatorException.verdict("refusing to activate " + v + ": its install in " + prefixOf(v) + " is not complete");
        }
        // A new link beside the old one, renamed over it: rename(2) is atomic, so a unit starting at any moment
        // finds either the old binary or the new one, never no link at all.
        Path tmp = link.resolveSibling("." + link.getFileName() + ".tmp-" + UUID.randomUUID());
        try {
            Files.createDirectories(link.getParent());
            Files.createSymbolicLink(tmp, binaryOf(v));
            Files.move(tmp, link, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // best effort: a stray .tmp link is harmless
            }
            throw fault("cannot point " + link + " at " + v, e);
        }
    }

    @Override
    public void prune(Set<Version> keep) throws ActuatorException {
        Optional<Version> active = active();
        if (!Files.isDirectory(versionsDir)) return;
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(versionsDir)) {
            for (Path d : dirs) {
                String name = d.getFileName().toString();
                if (!Version.isValid(name) || !Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) continue;
                Version v = Version.parse(name);
                if (keep.contains(v) || active.equals(Optional.of(v))) continue; // the active one is never pruned
                // Renamed out of the version namespace first, so a half-deleted prefix never looks like a version.
                Path doomed = versionsDir.resolve(".deleting-" + name + "-" + UUID.randomUUID());
                Files.move(d, doomed, StandardCopyOption.ATOMIC_MOVE);
                FileTrees.delete(doomed);
            }
        } catch (IOException e) {
            throw fault("cannot prune " + versionsDir, e);
        }
    }

    private static ActuatorException fault(String what, IOException e) {
        return new ActuatorException(what + ": " + e.getMessage(), false, e);
    }
}
