package t3.reconciler.controller.actuator.health;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.HealthCheck;
import t3.reconciler.controller.actuator.proc.Exec;
import t3.reconciler.controller.actuator.proc.FileTrees;
import t3.reconciler.controller.actuator.proc.ProcessTree;
import t3.reconciler.model.DesiredState;

/**
 * {@link HealthCheck} with a throwaway {@code t3 serve} on a copy of a real backup. Gates, in order:
 * <ul>
 *   <li>{@code start}: the server answers {@code GET /} with 200 within startTimeout (dying first fails it);</li>
 *   <li>{@code migration}: it did not come up, and its log matches a migration-failure pattern;</li>
 *   <li>{@code session}, {@code mint}, {@code pairing}: the handshake of {@link Handshake};</li>
 *   <li>{@code log}: it passed all that, yet its log matches a migration-failure pattern.</li>
 * </ul>
 * The server's process tree is always killed and the scratch directory always deleted.
 */
public final class HttpHealthCheck implements HealthCheck {
    private static final Set<String> SYSTEMD_SERVICE_ENV = Set.of("INVOCATION_ID", "JOURNAL_STREAM", "NOTIFY_SOCKET",
            "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "WATCHDOG_PID", "WATCHDOG_USEC", "MAINPID", "MANAGERPID");

    private static final Duration KILL_GRACE = Duration.ofSeconds(5);
    private static final long POLL_MS = 100;

    @Override
    public Result check(Path t3Binary, Path seedBackup, DesiredState.HealthCheck spec) throws ActuatorException {
        if (!Files.isRegularFile(seedBackup)) throw ActuatorException.verdict("seed backup " + seedBackup + " is not a file");
        if (!Files.isExecutable(t3Binary)) throw ActuatorException.verdict(t3Binary + " is not executable");
        Path scratch;
        try {
            Files.createDirectories(spec.scratchDir());
            scratch = Files.createTempDirectory(spec.scratchDir(), "t3-health-");
        } catch (IOException e) {
            throw new ActuatorException("cannot create a scratch dir under " + spec.scratchDir() + ": " + e.getMessage(), true, e);
        }
        Process server = null;
        try {
            Path baseDir = scratch; // the database lands at <scratch>/userdata/state.sqlite, as in a user's base dir
            copySeed(seedBackup, baseDir.resolve("userdata").resolve("state.sqlite"));
            Path log = scratch.resolve("serve.log");
            int port = spec.port() != 0 ? spec.port() : freePort();
            ProcessBuilder pb = new ProcessBuilder(t3Binary.toString(), "serve", "--host", "127.0.0.1", "--port", Integer.toString(port),
                    "--base-dir", baseDir.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .directory(scratch.toFile());
            // The controller usually runs as a systemd service: the throwaway server must not pass for part of it
            // (notify socket, watchdog, passed fds, the controller's invocation id).
            pb.environment().keySet().removeAll(SYSTEMD_SERVICE_ENV);
            server = pb.start();
            return gate(server, t3Binary, baseDir, URI.create("http://127.0.0.1:" + port + "/"), log, spec);
        } catch (IOException e) {
            throw new ActuatorException("health check could not run: " + e.getMessage(), true, e);
        } finally {
            if (server != null) ProcessTree.kill(server, KILL_GRACE);
            try {
                FileTrees.delete(scratch);
            } catch (IOException e) {
                // the verdict stands; a leftover scratch dir is only disk
            }
        }
    }

    private Result gate(Process server, Path binary, Path baseDir, URI base, Path log, DesiredState.HealthCheck spec) throws IOException {
        T3Client http = new T3Client(spec.requestTimeout());
        Optional<String> notUp = awaitRoot(server, http, base, spec);
        if (notUp.isPresent()) {
            Optional<String> migration = firstMatch(log, spec.migrationFailurePatterns());
            // A server that logged a migration failure and then died or never served: the migration is the cause.
            if (migration.isPresent()) return Result.fail("migration", notUp.get() + " after a migration failure: " + migration.get());
            return Result.fail("start", notUp.get() + logTail(log));
        }
        Result handshake = Handshake.run(http, base, spec.pairingEndpoints(),
                () -> Minter.mint(binary, baseDir, Optional.empty(), spec.startTimeout()));
        if (!handshake.passed()) return handshake;
        Optional<String> migration = firstMatch(log, spec.migrationFailurePatterns());
        if (migration.isPresent()) return Result.fail("log", "handshake passed but the log reports: " + migration.get());
        return Result.pass(handshake.detail());
    }

    /** Empty once {@code GET /} answers 200; otherwise why not, when the server died or startTimeout ran out. */
    private static Optional<String> awaitRoot(Process server, T3Client http, URI base, DesiredState.HealthCheck spec) {
        Instant deadline = Instant.now().plus(spec.startTimeout());
        String last = "no answer";
        while (true) {
            if (!server.isAlive()) return Optional.of("server exited with " + server.exitValue() + " before answering GET /");
            Duration left = Duration.between(Instant.now(), deadline);
            if (left.isNegative() || left.isZero()) {
                return Optional.of("GET / did not answer 200 within " + spec.startTimeout().toSeconds() + "s (last: " + last + ")");
            }
            try {
                Duration bound = left.compareTo(spec.requestTimeout()) < 0 ? left : spec.requestTimeout();
                T3Client.Response r = http.get(base, Map.of(), bound);
                if (r.status() == 200) return Optional.empty();
                last = "status " + r.status();
            } catch (IOException e) {
                last = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
            }
            // Waiting on the process's exit doubles as the pause between polls, and wakes at once if it dies.
            try {
                server.onExit().get(Math.min(POLL_MS, Math.max(1, left.toMillis())), TimeUnit.MILLISECONDS);
            } catch (TimeoutException | ExecutionException e) {
                // still running: poll again
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.of("interrupted while waiting for the server");
            }
        }
    }

    /** {@code cp --reflink=auto}: instant on CoW filesystems, a plain copy elsewhere. */
    private static void copySeed(Path seed, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        Exec.Result r = Exec.run(List.of("cp", "--reflink=auto", "--", seed.toString(), target.toString()), Duration.ofMinutes(10));
        if (!r.ok()) Files.copy(seed, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static Optional<String> firstMatch(Path log, List<Pattern> patterns) throws IOException {
        if (!Files.exists(log)) return Optional.empty();
        // Decoded leniently: a log line with broken UTF-8 must not hide the lines after it.
        for (String line : (Iterable<String>) new String(Files.readAllBytes(log), StandardCharsets.UTF_8).lines()::iterator) {
            for (Pattern p : patterns) {
                Matcher m = p.matcher(line);
                if (m.find()) return Optional.of(Handshake.snippet(line));
            }
        }
        return Optional.empty();
    }

    private static String logTail(Path log) {
        try {
            String tail = Exec.tail(new String(Files.readAllBytes(log), StandardCharsets.UTF_8), 5);
            return tail.isBlank() ? "" : "; log ends:\n" + tail;
        } catch (IOException e) {
            return "";
        }
    }
}
