package t3.reconciler.controller.actuator.health;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import t3.reconciler.controller.actuator.proc.Exec;

/** {@code t3 auth pairing create --json}: a one-time credential written into the server's own database. */
final class Minter {
    static final class Failure extends Exception {
        Failure(String message) { super(message); }
    }

    private Minter() {}

    /** @param runAs the user whose database it is (empty: run as ourselves) */
    static String mint(Path binary, Path baseDir, Optional<RunAs> runAs, Duration timeout) throws Failure {
        List<String> argv = List.of(binary.toString(), "auth", "pairing", "create", "--base-dir", baseDir.toString(), "--ttl", "5m", "--json");
        Exec.Result r;
        try {
            List<String> cmd = runAs.isPresent() ? runAs.get().wrap(argv) : argv;
            Map<String, String> env = runAs.isPresent() ? runAs.get().env(baseDir) : Map.of();
            r = Exec.run(cmd, timeout, env, null);
        } catch (IOException e) {
            throw new Failure("could not run '" + binary + " auth pairing create': " + e.getMessage());
        }
        if (!r.ok()) throw new Failure("'auth pairing create' exited " + r.exitCode() + ": " + r.tail());
        // The JSON is the last line that looks like an object: anything before it is chatter.
        String json = r.stdout().lines().map(String::strip).filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElse("");
        try {
            JsonNode n = T3Client.JSON.readTree(json);
            if (n != null && n.path("credential").isTextual() && !n.get("credential").asText().isEmpty()) return n.get("credential").asText();
        } catch (IOException e) {
            // reported below
        }
        throw new Failure("'auth pairing create --json' printed no credential: " + Exec.tail(r.stdout(), 3).replaceAll("\"credential\"\\s*:\\s*\"[^\"]*\"", "\"credential\":\"…\""));
    }
}
