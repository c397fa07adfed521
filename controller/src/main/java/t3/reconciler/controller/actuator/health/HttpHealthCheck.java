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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.HealthCheck;
import t3.reconciler.controller.actuator.backup.SeedCopy;
import t3.reconciler.controller.actuator.proc.Account;
import t3.reconciler.controller.actuator.proc.CandidateAccount;
import t3.reconciler.controller.actuator.proc.DescriptorTrees;
import t3.reconciler.controller.actuator.proc.Exec;
import t3.reconciler.controller.actuator.proc.Handoff;
import t3.reconciler.controller.actuator.proc.ProcessStamp;
import t3.reconciler.controller.actuator.proc.PidNamespace;
import t3.reconciler.model.DesiredState;

/**
 * {@link HealthCheck} with a throwaway {@code t3 serve} on a copy of a real backup. Gates, in order:
 * <ul>
 *   <li>{@code start}: a socket of the server's own process tree listens on 127.0.0.1:port and {@code GET /} answers
 *   200 within startTimeout (dying first fails it; an answer from anyone else's socket never counts);</li>
 *   <li>{@code migration}: it did not come up, and its log matches a migration-failure pattern;</li>
 *   <li>{@code session}, {@code mint}, {@code pairing}: the handshake of {@link Handshake}, after which the server must
 *   still hold that very socket;</li>
 *   <li>{@code log}: it passed all that, yet its log matches a migration-failure pattern.</li>
 * </ul>
 * The candidate runs as {@code install.user}, never as root, on a copy that account owns: root makes a fresh
 * {@link Handoff} directory (random name, root's, only root and the account may enter), copies the seed backup into
 * {@code base/} while it is still root's, hands {@code base/} to the account and starts the server and its minter as
 * the account with {@code HOME} there, each in a PID namespace of its own. The log stays root's, beside it.
 * Afterwards the server's namespace is killed (everything it started goes with it) and the directory deleted
 * through descriptors.
 */
public final class HttpHealthCheck implements HealthCheck {
    /** The longest pause between polls of a starting server (it was the fixed step before {@link Backoff}). */
    static final Duration POLL_CAP = Duration.ofMillis(100);

    /** A throwaway server on a copy is not a user at work: t3 0.0.33 reports to its makers unless told not to. */
    static final String NO_TELEMETRY = "T3CODE_TELEMETRY_ENABLED=false";

    private final String account;
    private final Optional<Path> binFirst;

    /** @param account the unprivileged account that runs the candidate ({@code install.user}) */
    public HttpHealthCheck(String account) {
        this(account, Optional.empty());
    }

    /**
     * @param account the unprivileged account that runs the candidate ({@code install.user})
     * @param npm     {@code install.npm}: the candidate runs on the node beside it ({@link Account#binDirOf})
     */
    public HttpHealthCheck(String account, Path npm) {
        this(account, Account.binDirOf(npm));
    }

    private HttpHealthCheck(String account, Optional<Path> binFirst) {
        this.account = account;
        this.binFirst = binFirst;
    }

    @Override
    public Result check(Path t3Binary, Path seedBackup, DesiredState.HealthCheck spec, Leftovers leftovers) throws ActuatorException {
        if (!Files.isRegularFile(seedBackup)) throw ActuatorException.verdict("seed backup " + seedBackup + " is not a file");
        if (!Files.isExecutable(t3Binary)) throw ActuatorException.verdict(t3Binary + " is not executable");
        Account as = CandidateAccount.resolve(account);
        Path scratch;
        try {
            scratch = Handoff.create(spec.scratchDir(), "t3-health-", as);
        } catch (IOException e) {
            throw new ActuatorException("cannot create a scratch dir under " + spec.scratchDir() + ": " + e.getMessage(), true, e);
        }
        leftovers.record(scratch, Optional.empty());
        Process server = null;
        try {
            Path baseDir = scratch.resolve("base"); // the database lands at <base>/userdata/state.sqlite, as in a user's base dir
            Files.createDirectory(baseDir);
            copySeed(seedBackup, baseDir.resolve("userdata").resolve("state.sqlite"));
            Handoff.giveTree(baseDir, as);
            Path log = scratch.resolve("serve.log"); // root's: opened by us, written through the inherited descriptor
            int port = spec.port() != 0 ? spec.port() : freePort();
            // env -i in the wrapper: nothing of ours (a systemd notify socket, watchdog, invocation id) reaches it.
            ProcessBuilder pb = new ProcessBuilder(PidNamespace.wrap(as.wrap(List.of(t3Binary.toAbsolutePath().toString(), "serve", "--host", "127.0.0.1",
                    "--port", Integer.toString(port), "--base-dir", baseDir.toString()), Optional.of(baseDir), List.of(NO_TELEMETRY), binFirst)))
                    .redirectErrorStream(true).redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .directory(baseDir.toFile());
            server = pb.start();
            leftovers.record(scratch, ProcessStamp.of(server.pid()));
            return gate(server, t3Binary, as, baseDir, port, log, spec);
        } catch (IOException e) {
            throw new ActuatorException("health check could not run: " + e.getMessage(), true, e);
        } finally {
            // Its PID namespace goes with it: nothing it started (a daemonized child) keeps writing into the scratch.
            if (server != null) PidNamespace.kill(server.toHandle());
            try {
                DescriptorTrees.delete(scratch);
            } catch (IOException e) {
                // the verdict stands; a leftover scratch dir is only disk, in a directory no one else can enter
            }
        }
    }

    private Result gate(Process server, Path binary, Account as, Path baseDir, int port, Path log, DesiredState.HealthCheck spec) throws IOException {
        T3Client http = new T3Client(spec.requestTimeout());
        URI base = URI.create("http://127.0.0.1:" + port + "/");
        Optional<String> notUp = awaitRoot(server, http, base, port, spec);
        if (notUp.isPresent()) {
            Optional<String> migration = firstMatch(log, spec.migrationFailurePatterns());
            // A server that logged a migration failure and then died or never served: the migration is the cause.
            if (migration.isPresent()) return Result.fail("migration", notUp.get() + " after a migration failure: " + migration.get());
            return Result.fail("start", notUp.get() + logTail(log));
        }
        Optional<String> socket = ListeningSockets.ownListener(server.pid(), port);
        Result handshake = Handshake.run(http, base, spec.pairingEndpoints(),
                () -> Minter.mint(binary, baseDir, as, Optional.of(baseDir), binFirst, spec.startTimeout()));
        // Had the server let go of its socket meanwhile, someone else could have answered part of the handshake.
        if (!server.isAlive() || socket.isEmpty() || !socket.equals(ListeningSockets.ownListener(server.pid(), port))) {
            return Result.fail("start", "the server did not hold its socket on 127.0.0.1:" + port + " through the handshake" + logTail(log));
        }
        if (!handshake.passed()) return handshake;
        Optional<String> migration = firstMatch(log, spec.migrationFailurePatterns());
        if (migration.isPresent()) return Result.fail("log", "handshake passed but the log reports: " + migration.get());
        return Result.pass(handshake.detail());
    }

    /**
     * Empty once {@code GET /} answers 200; otherwise why not, when the server died or startTimeout ran out. Polled
     * with a {@link Backoff}: the stand-in is seen within milliseconds, the real t3 (about 4.5 s) without hammering.
     */
    private static Optional<String> awaitRoot(Process server, T3Client http, URI base, int port, DesiredState.HealthCheck spec) {
        Instant deadline = Instant.now().plus(spec.startTimeout());
        Backoff backoff = new Backoff(POLL_CAP, spec.requestTimeout());
        String last = "no answer";
        while (true) {
            if (!server.isAlive()) return Optional.of("server exited with " + server.exitValue() + " before answering GET /");
            Duration left = Duration.between(Instant.now(), deadline);
            if (left.isNegative() || left.isZero()) {
                return Optional.of("GET / did not answer 200 within " + spec.startTimeout().toSeconds() + "s (last: " + last + ")");
            }
            if (ListeningSockets.ownListener(server.pid(), port).isEmpty()) {
                // Whatever else answers on this port (a user who took it) is not the candidate: it is never asked.
                last = "no socket of the server's own listens on 127.0.0.1:" + port;
            } else try {
                T3Client.Response r = http.get(base, Map.of(), backoff.nextRequestTimeout(left));
                if (r.status() == 200) return Optional.empty();
                last = "status " + r.status();
            } catch (IOException e) {
                last = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
            }
            // Waiting on the process's exit doubles as the pause between polls, and wakes at once if it dies.
            try {
                Duration pause = backoff.nextPause(Duration.between(Instant.now(), deadline));
                server.onExit().get(Math.max(1, pause.toMillis()), TimeUnit.MILLISECONDS);
            } catch (TimeoutException | ExecutionException e) {
                // still running: poll again
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.of("interrupted while waiting for the server");
            }
        }
    }

    /** Into a directory of root's that the candidate gets only afterwards; a short copy is an error, not a seed. */
    private static void copySeed(Path seed, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        SeedCopy.copy(seed, target);
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
