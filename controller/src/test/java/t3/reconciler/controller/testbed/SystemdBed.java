package t3.reconciler.controller.testbed;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real systemd --user manager on its own D-Bus bus, driven by {@code testbed/systemd-bed.sh}. Needs root.
 *
 * <pre>{@code
 * try (SystemdBed bed = SystemdBed.start(tempDir.resolve("bed"))) {
 *     bed.addUser("t3x-alice", 18080, homeRoot, link);          // unit t3-serve@t3x-alice.service
 *     Units units = new DbusUnits(bed.busAddress());
 *     units.start("t3-serve@t3x-alice.service", Duration.ofSeconds(10));
 * }
 * }</pre>
 *
 * Unit files may also be written straight into {@link #unitsDir()} before they are first used. Units should log
 * with {@code StandardOutput=append:FILE}; output of units that set nothing goes to {@code logs/manager.log}.
 * {@code dir} must be short (a socket lives in it) and, for {@link #addUser}, every parent of {@code homeRoot}
 * and of {@code link} must be searchable by the user (mode 0755, not the 0700 of a JUnit temp dir).
 */
public final class SystemdBed implements AutoCloseable {
    private static final long SCRIPT_TIMEOUT_SECONDS = 60;

    private final Path script;
    private final Path dir;
    private final String busAddress;

    private SystemdBed(Path script, Path dir, String busAddress) {
        this.script = script;
        this.dir = dir;
        this.busAddress = busAddress;
    }

    /** Brings a bed up in {@code dir} (created if missing) and waits until systemd is on its bus. */
    public static SystemdBed start(Path dir) throws IOException {
        Path script = locateScript();
        Path absolute = dir.toAbsolutePath().normalize();
        run(script, "up", absolute.toString());
        String address = null;
        for (String line : run(script, "env", absolute.toString()).split("\n")) {
            if (line.startsWith("DBUS_ADDRESS=")) address = line.substring("DBUS_ADDRESS=".length());
        }
        if (address == null) throw new IOException("systemd-bed.sh env printed no DBUS_ADDRESS");
        return new SystemdBed(script, absolute, address);
    }

    /** A D-Bus address for dbus-java or {@code busctl --address}, e.g. {@code unix:path=DIR/bus}. */
    public String busAddress() { return busAddress; }

    /** Directory the manager loads units from. */
    public Path unitsDir() { return dir.resolve("units"); }

    /** Directory of the manager's, the bus's and the t3-serve units' logs ({@code USER.log}). */
    public Path logsDir() { return dir.resolve("logs"); }

    /**
     * Creates the Linux user if missing, its 0700 home {@code homeRoot/user}, and the template
     * {@code t3-serve@.service} that runs {@code link serve --host 127.0.0.1 --port PORT --base-dir homeRoot/USER/.t3}
     * as that user; nothing is started. One template per bed: every user of a bed shares homeRoot and link.
     */
    public void addUser(String user, int port, Path homeRoot, Path link) throws IOException {
        run(script, "add-user", dir.toString(), user, Integer.toString(port),
                homeRoot.toAbsolutePath().toString(), link.toAbsolutePath().toString());
    }

    /** SIGKILLs the bus daemon, as a crash would, and keeps the bus down (connections refused) until {@link #ensureUp}. */
    public void killBus() throws IOException { run(script, "kill-bus", dir.toString()); }

    /** Idempotent {@code up}: brings a killed bus back and returns once systemd is on it. */
    public void ensureUp() throws IOException { run(script, "up", dir.toString()); }

    /** Stops the manager and everything it started, removes its cgroups; keeps the logs. */
    @Override
    public void close() throws IOException { run(script, "down", dir.toString()); }

    private static String run(Path script, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("/bin/bash", script.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output;
        try (var in = p.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        try {
            if (!p.waitFor(SCRIPT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("systemd-bed.sh " + args[0] + " did not finish: " + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted running systemd-bed.sh " + args[0], e);
        }
        if (p.exitValue() != 0) throw new IOException("systemd-bed.sh " + String.join(" ", args) + " exited " + p.exitValue() + ": " + output);
        return output;
    }

    /** The script lives in the repository root's testbed/; tests run from a module directory below it. */
    private static Path locateScript() throws IOException {
        for (Path d = Path.of(System.getProperty("user.dir")).toAbsolutePath(); d != null; d = d.getParent()) {
            Path candidate = d.resolve("testbed").resolve("systemd-bed.sh");
            if (Files.isRegularFile(candidate)) return candidate;
        }
        throw new IOException("testbed/systemd-bed.sh not found above " + System.getProperty("user.dir"));
    }
}
