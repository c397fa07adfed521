package t3.reconciler.controller.actuator.health;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import t3.reconciler.model.Channel;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.User;

/** Desired states for actuator tests: only the parts the health check and pairing read are meaningful. */
public final class Specs {
    public static final List<String> ENDPOINTS = List.of("/api/auth/browser-session", "/api/auth/bootstrap");
    public static final List<Pattern> MIGRATION_PATTERNS = List.of(Pattern.compile("MigrationError"), Pattern.compile("(?i)migration \\S+ failed"));

    private Specs() {}

    public static DesiredState.HealthCheck healthCheck(Path scratch, Duration startTimeout, Duration requestTimeout, List<Pattern> patterns) {
        return new DesiredState.HealthCheck(Optional.empty(), scratch, 0, ENDPOINTS, startTimeout, requestTimeout, patterns);
    }

    public static DesiredState.HealthCheck healthCheck(Path scratch) {
        return healthCheck(scratch, Duration.ofSeconds(30), Duration.ofSeconds(5), MIGRATION_PATTERNS);
    }

    public static DesiredState desired(Path root, User user, int verifyAttempts, Optional<URI> dispatch) {
        return new DesiredState(
                root.resolve("desired.yaml"), "t3", Channel.NIGHTLY, true, Optional.empty(), false, List.of(user), Optional.empty(),
                "t3-serve@{user}.service", root + "/home/{user}/.t3/userdata/state.sqlite",
                new DesiredState.Install(Optional.empty(), root.resolve("versions"), root.resolve("bin/t3"), Path.of("npm"), Duration.ofMinutes(2), 3, DesiredState.Install.DEFAULT_USER),
                new DesiredState.Backup(root.resolve("backups"), 5, LocalTime.of(3, 0)),
                healthCheck(root.resolve("scratch")),
                new DesiredState.Canary(Pattern.compile("claude|codex"), dispatch, verifyAttempts, Duration.ofMillis(200), Duration.ofMinutes(5)),
                new DesiredState.Schedule(Duration.ofMinutes(5), Optional.empty(), ZoneId.of("UTC")),
                new DesiredState.Breaker(DesiredState.BreakerPolicy.FREEZE, Duration.ofMinutes(30), Duration.ofHours(24)),
                new DesiredState.Alerts(Optional.empty(), Duration.ofDays(3)),
                new DesiredState.Controller(root.resolve("state.db"), root.resolve("FREEZE"), root.resolve("pid"), "127.0.0.1:0", "system"),
                Optional.empty());
    }
}
