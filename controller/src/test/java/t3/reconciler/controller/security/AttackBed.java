package t3.reconciler.controller.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.proc.Exec;
import t3.reconciler.controller.actuator.systemd.DbusUnits;
import t3.reconciler.controller.testbed.RegistryBed;

/**
 * The test bed ({@code testbed/bed.sh}) for attacks on users' files: real local accounts whose t3 servers run under
 * a real systemd manager and write their SQLite databases as those accounts. Each bed lives under
 * {@code controller/target/e2e-<random>}.
 */
final class AttackBed implements AutoCloseable {
    private static final Duration BED_TIMEOUT = Duration.ofMinutes(5);
    final Path dir;

    private AttackBed(Path dir) { this.dir = dir; }

    static AttackBed up(String... users) throws IOException {
        return up(repoRoot().resolve("controller/target/e2e-" + UUID.randomUUID().toString().substring(0, 8)), users);
    }

    /** A bed in {@code dir} (for instance one the shipped unit can see: {@code ShippedUnit.freshBedDir()}). */
    static AttackBed up(Path dir, String... users) throws IOException {
        Hostile.requireRoot();
        List<String> args = new ArrayList<>(List.of("up", dir.toString()));
        args.addAll(List.of(users));
        script(args);
        return new AttackBed(dir);
    }

    Path database(String user) { return home(user).resolve(".t3/userdata/state.sqlite"); }

    Path home(String user) { return dir.resolve("home").resolve(user); }

    Path backups() { return dir.resolve("backups"); }

    /** Publishes a stand-in build of {@code flavor} to the bed's registry under {@code tags}. */
    void publish(String version, String flavor, String... tags) throws IOException {
        List<String> args = new ArrayList<>(List.of("publish", dir.toString(), version, flavor));
        args.addAll(List.of(tags));
        script(args);
    }

    /** The unit stopped and its job done: a restore's caller must stop the server first. */
    void stop(String user) throws ActuatorException {
        try (DbusUnits units = new DbusUnits("unix:path=" + dir.resolve("systemd/bus"), Duration.ofSeconds(2))) {
            units.stop("t3-serve@" + user + ".service", Duration.ofSeconds(30));
        }
    }

    /** The racer ({@code testbed/racer.c}), compiled once into {@code controller/target}. */
    static synchronized Path racer() throws IOException {
        Path bin = repoRoot().resolve("controller/target/t3sa-racer");
        if (!Files.isExecutable(bin)) {
            Exec.Result r = Exec.run(List.of("gcc", "-O2", "-Wall", "-o", bin.toString(), repoRoot().resolve("testbed/racer.c").toString()), Duration.ofMinutes(2));
            if (!r.ok()) throw new IOException("gcc testbed/racer.c failed: " + r.tail());
        }
        return bin;
    }

    @Override
    public void close() throws IOException { script(List.of("down", dir.toString())); }

    static Path repoRoot() { return RegistryBed.repoRoot(); }

    private static void script(List<String> args) throws IOException {
        List<String> argv = new ArrayList<>(List.of(repoRoot().resolve("testbed/bed.sh").toString()));
        argv.addAll(args);
        Exec.Result r = Exec.run(argv, BED_TIMEOUT);
        if (!r.ok()) throw new IOException("bed.sh " + args + " failed (" + r.exitCode() + "):\n" + r.tail());
    }
}
