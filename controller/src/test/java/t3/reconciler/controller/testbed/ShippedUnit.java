package t3.reconciler.controller.testbed;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * {@code packaging/t3-reconciler.service}, byte for byte, installed into a bed's systemd manager ({@code testbed/bed.sh}
 * layout) with one drop-in that changes paths only: ExecStart (the test's classes: the shaded jar bin/t3-reconciler
 * runs is built after Maven's test phase), T3R_SPEC, the log file, and the bed's trees added to ReadWritePaths. The
 * bed's spec is pointed at the unit's StateDirectory and RuntimeDirectory, which a user manager creates under
 * $XDG_CONFIG_HOME and $XDG_RUNTIME_DIR, and its healthCheck.scratchDir is left at the default /var/tmp (private).
 */
public final class ShippedUnit {
    public static final String NAME = "t3-reconciler.service";
    private final Path bed;

    private ShippedUnit(Path bed) { this.bed = bed; }

    public static ShippedUnit install(Path bed, Path spec) throws IOException {
        ShippedUnit u = new ShippedUnit(bed);
        String text = Files.readString(spec)
                .replaceFirst("(?m)^healthCheck: \\{scratchDir: [^,]+, ", "healthCheck: {")
                .replaceFirst("(?m)^  stateDb: .*$", "  stateDb: " + u.stateDir().resolve("state.db"))
                .replaceFirst("(?m)^  freezeFile: .*$", "  freezeFile: " + u.stateDir().resolve("freeze"))
                .replaceFirst("(?m)^  pidFile: .*$", "  pidFile: " + u.runtimeDir().resolve("t3-reconciler.pid"));
        if (!text.contains(u.stateDir().resolve("freeze").toString()) || text.contains("scratchDir")) {
            throw new IOException("the bed's spec is not laid out as ShippedUnit expects:\n" + text);
        }
        Files.writeString(spec, text);
        Path shipped = RegistryBed.repoRoot().resolve("packaging/t3-reconciler.service");
        Path units = bed.resolve("systemd/units");
        Files.copy(shipped, units.resolve(NAME));
        if (!java.util.Arrays.equals(Files.readAllBytes(shipped), Files.readAllBytes(units.resolve(NAME)))) throw new IOException("not installed as shipped");
        Path dropIn = Files.createDirectories(units.resolve(NAME + ".d")).resolve("bed-paths.conf");
        Files.writeString(dropIn, u.dropIn(spec));
        u.systemctl("daemon-reload");
        return u;
    }

    /**
     * A directory for a bed this unit will run on, outside {@code /tmp} and {@code /var/tmp}: the unit's
     * {@code PrivateTmp=yes} hides both, so a bed (or a checkout) there would vanish from the unit's view and systemd
     * would refuse to start it (226/NAMESPACE on the bed's {@code ReadWritePaths=}). CI may clone anywhere.
     */
    public static Path freshBedDir() throws IOException {
        return Files.createDirectories(BEDS).resolve("e2e-" + java.util.UUID.randomUUID().toString().substring(0, 8));
    }

    static final Path BEDS = Path.of("/var/lib/t3r-e2e");

    private String dropIn(Path spec) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return ("[Service]\n"
                + "Environment=T3R_SPEC=" + spec + "\n"
                + "ExecStart=\n"
                + "ExecStart=" + java + " -cp " + visibleClassPath() + " t3.reconciler.controller.cli.Main run\n"
                + "StandardOutput=append:" + logFile() + "\n"
                + "StandardError=append:" + logFile() + "\n"
                + "ReadWritePaths=" + String.join(" ", List.of("versions", "bin", "backups", "home").stream().map(d -> bed.resolve(d).toString()).toList()) + "\n")
                .replace("%", "%%");
    }

    /**
     * The test's class path as the unit can see it: entries below the checkout (the modules' classes, which may be
     * under a /tmp the unit's PrivateTmp hides) are copied into the bed; jars in the Maven repository are used where
     * they are. Surefire runs tests from a manifest-only jar, so its real class path is in surefire.test.class.path.
     */
    private String visibleClassPath() throws IOException {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path repo = RegistryBed.repoRoot().toAbsolutePath().normalize();
        Path copies = Files.createDirectories(bed.resolve("classpath"));
        List<String> out = new ArrayList<>();
        int n = 0;
        for (String entry : cp.split(java.io.File.pathSeparator)) {
            if (entry.isBlank()) continue;
            Path p = Path.of(entry).toAbsolutePath().normalize();
            if (!p.startsWith(repo) || !Files.exists(p)) {
                out.add(p.toString());
                continue;
            }
            Path copy = copies.resolve((n++) + "-" + p.getFileName());
            if (Files.isDirectory(p)) {
                try (var walk = Files.walk(p)) {
                    for (Path f : (Iterable<Path>) walk::iterator) {
                        Path to = copy.resolve(p.relativize(f).toString());
                        if (Files.isDirectory(f)) Files.createDirectories(to);
                        else Files.copy(f, to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            } else {
                Files.copy(p, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            out.add(copy.toString());
        }
        return String.join(java.io.File.pathSeparator, out);
    }

    /** Where the unit's StateDirectory=t3-reconciler is under the bed's user manager ($XDG_CONFIG_HOME). */
    public Path stateDir() { return bed.resolve("systemd/config/t3-reconciler"); }

    /** Where its RuntimeDirectory=t3-reconciler is ($XDG_RUNTIME_DIR). */
    public Path runtimeDir() { return bed.resolve("systemd/run/t3-reconciler"); }

    public Path logFile() { return bed.resolve("systemd/logs/t3-reconciler.log"); }

    public long mainPid() throws IOException { return Long.parseLong(show("MainPID")); }

    public String show(String property) throws IOException { return systemctl("show", "-p", property, "--value", NAME).strip(); }

    /** A unit systemd could not start (226/NAMESPACE, ...) or that died: nothing more will be logged. */
    public Optional<String> failed() throws IOException {
        String state = show("ActiveState");
        if (List.of("active", "activating", "reloading", "deactivating").contains(state)) return Optional.empty();
        return Optional.of("the unit is " + state + " (" + show("Result") + ", " + show("ExecMainStatus") + ")\n--- manager log ---\n" + managerTail());
    }

    /** systemctl --user against the bed's manager, through its private socket under XDG_RUNTIME_DIR; fails on a non-zero exit. */
    public String systemctl(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("systemctl", "--user", "--no-pager"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("XDG_RUNTIME_DIR", bed.resolve("systemd/run").toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            // stop may take the unit's TimeoutStopSec (5 min) to finish a step
            if (!p.waitFor(6, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException("systemctl " + String.join(" ", args) + " did not return");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: systemctl " + String.join(" ", args), e);
        }
        if (p.exitValue() != 0) {
            throw new IOException("systemctl " + String.join(" ", args) + " exited " + p.exitValue() + ": " + out + "\n--- manager log ---\n" + managerTail());
        }
        return out;
    }

    private String managerTail() throws IOException {
        List<String> l = Files.readAllLines(bed.resolve("systemd/logs/manager.log"), StandardCharsets.ISO_8859_1);
        return String.join("\n", l.subList(Math.max(0, l.size() - 20), l.size())).replace("\r", "");
    }
}
