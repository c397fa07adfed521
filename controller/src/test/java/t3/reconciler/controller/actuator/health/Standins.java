package t3.reconciler.controller.actuator.health;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.npm.NpmPackages;
import t3.reconciler.controller.actuator.proc.Exec;
import t3.reconciler.controller.testbed.RegistryBed;
import t3.reconciler.model.Version;

/** Stand-in builds installed from a {@link RegistryBed}, and databases made by them. */
final class Standins {
    private final RegistryBed bed;
    private final NpmPackages npm;
    private final Path prefixes;

    Standins(RegistryBed bed, Path prefixes) {
        this.bed = bed;
        this.prefixes = prefixes;
        try {
            this.npm = new NpmPackages(RegistryBed.npm(), Optional.of(bed.url()), Duration.ofMinutes(2), RegistryBed.candidateAccount());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Publishes {@code version} as {@code flavor}, installs it, and returns its binary. */
    Path install(String version, RegistryBed.Flavor flavor, int schema) throws IOException, ActuatorException {
        bed.publish(version, flavor, schema);
        Path prefix = prefixes.resolve(version);
        npm.install(RegistryBed.PACKAGE, Version.parse(version), prefix);
        return prefix.resolve("bin").resolve(RegistryBed.PACKAGE);
    }

    static Exec.Result run(List<String> argv) throws IOException {
        Exec.Result r = Exec.run(argv, Duration.ofMinutes(1));
        if (!r.ok()) throw new IOException(argv + " failed: " + r.tail());
        return r;
    }

    /** A database created by {@code binary} (its schema), with a conversation in it if {@code messages > 0}. */
    static Path database(Path binary, Path baseDir, int messages) throws IOException {
        run(List.of(binary.toString(), "auth", "pairing", "create", "--base-dir", baseDir.toString(), "--json"));
        Path db = baseDir.resolve("userdata/state.sqlite");
        StringBuilder sql = new StringBuilder("INSERT INTO projection_threads (id, title, created_at) VALUES ('t1', 'a chat', datetime());");
        for (int i = 0; i < messages; i++) {
            sql.append("INSERT INTO projection_messages (thread_id, role, content, created_at) VALUES ('t1', 'user', 'hello ").append(i).append("', datetime());");
        }
        if (messages > 0) run(List.of("sqlite3", db.toString(), sql.toString()));
        return db;
    }

    /** A backup as the controller takes it: {@code VACUUM INTO} a single file. */
    static Path backup(Path db, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        run(List.of("sqlite3", db.toString(), "VACUUM INTO '" + target.toString().replace("'", "''") + "'"));
        return target;
    }

    /** Processes whose command line mentions {@code needle}, e.g. a scratch dir: what must be gone after a check. */
    static List<String> processesMentioning(String needle) {
        try (var procs = Files.list(Path.of("/proc"))) {
            return procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).flatMap(p -> {
                try {
                    String cmd = new String(Files.readAllBytes(p.resolve("cmdline"))).replace('\0', ' ');
                    return cmd.contains(needle) ? java.util.stream.Stream.of(p.getFileName() + ": " + cmd) : java.util.stream.Stream.empty();
                } catch (IOException e) {
                    return java.util.stream.Stream.empty();
                }
            }).toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
