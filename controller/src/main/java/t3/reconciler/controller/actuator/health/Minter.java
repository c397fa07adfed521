package t3.reconciler.controller.actuator.health;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import t3.reconciler.controller.actuator.proc.Account;
import t3.reconciler.controller.actuator.proc.Exec;
import t3.reconciler.controller.actuator.proc.PidNamespace;

/** {@code t3 auth pairing create --json}: a one-time credential written into the server's own database. */
final class Minter {
    static final class Failure extends Exception {
        Failure(String message) { super(message); }
    }

    private Minter() {}

    /** {@link #mint(Path, Path, Account, Optional, Optional, Duration)} on the fixed PATH's node. */
    static String mint(Path binary, Path baseDir, Account as, Optional<Path> home, Duration timeout) throws Failure {
        return mint(binary, baseDir, as, home, Optional.empty(), timeout);
    }

    /**
     * Never as root: the minter is the candidate's code, and it writes into the database it is pointed at.
     *
     * @param as   who runs it: the user whose database it is (the canary), or the candidate account (the health check)
     * @param home its HOME, or empty for the account's own
     * @param binFirst ahead of its PATH: where the node t3 needs is ({@link Account#binDirOf})
     */
    static String mint(Path binary, Path baseDir, Account as, Optional<Path> home, Optional<Path> binFirst, Duration timeout) throws Failure {
        List<String> argv = List.of(binary.toAbsolutePath().toString(), "auth", "pairing", "create", "--base-dir", baseDir.toString(), "--ttl", "5m", "--json");
        Exec.Result r;
        try {
            r = Exec.run(PidNamespace.wrap(as.wrap(argv, home, List.of(HttpHealthCheck.NO_TELEMETRY), binFirst)), timeout, Map.of(), Path.of("/"));
        } catch (IOException e) {
            throw new Failure("could not run '" + binary + " auth pairing create': " + e.getMessage());
        }
        if (!r.ok()) throw new Failure("'auth pairing create' exited " + r.exitCode() + ": " + r.tail());
        Optional<String> credential = credentialIn(r.stdout());
        if (credential.isPresent()) return credential.get();
        throw new Failure("'auth pairing create --json' printed no credential: " + Exec.tail(r.stdout(), 3).replaceAll("\"credential\"\\s*:\\s*\"[^\"]*\"", "\"credential\":\"…\""));
    }

    /**
     * The credential in {@code --json}'s output. The JSON starts at the last line that opens an object at its first
     * column and may span lines (t3 0.0.33 pretty-prints it; the stand-in prints one line); anything before it, and
     * after its first value, is chatter.
     */
    static Optional<String> credentialIn(String out) {
        int last = out.lastIndexOf("\n{");
        int start = last >= 0 ? last + 1 : out.startsWith("{") ? 0 : out.length();
        try (JsonParser p = T3Client.JSON.getFactory().createParser(out.substring(start))) {
            JsonNode n = T3Client.JSON.readTree(p);
            if (n != null && n.path("credential").isTextual() && !n.get("credential").asText().isEmpty()) return Optional.of(n.get("credential").asText());
        } catch (IOException e) {
            // no credential
        }
        return Optional.empty();
    }
}
