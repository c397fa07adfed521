package t3.reconciler.model;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What the operator asked for, read from the desired-state YAML file. Immutable; every field has a
 * default (see {@code desired-state.example.yaml} and docs/configuration.md) so a three-line file works.
 *
 * @param source        the file this was read from (for messages)
 * @param trackExplicit whether {@code track} was written in the file (pin + explicit track is legal: pin wins)
 */
public record DesiredState(
        Path source,
        String packageName,
        Channel track,
        boolean trackExplicit,
        Optional<Version> pin,
        boolean freeze,
        List<User> users,
        Optional<Path> usersFile,
        String unitTemplate,
        String databaseTemplate,
        Install install,
        Backup backup,
        HealthCheck healthCheck,
        Canary canary,
        Schedule schedule,
        Breaker breaker,
        Alerts alerts,
        Controller controller,
        Optional<Fleet> fleet) {

    public static final String USER_PLACEHOLDER = "{user}";

    public DesiredState {
        users = List.copyOf(users);
    }

    /** The unit of one user, e.g. {@code t3-serve@alice.service}. */
    public String unitOf(String user) {
        User.requireValidName(user);
        return unitTemplate.replace(USER_PLACEHOLDER, user);
    }

    /** The glob that lists every instance, e.g. {@code t3-serve@*.service}. */
    public String unitPattern() { return unitTemplate.replace(USER_PLACEHOLDER, "*"); }

    /** The live database of one user. */
    public Path databaseOf(String user) {
        User.requireValidName(user);
        return Path.of(databaseTemplate.replace(USER_PLACEHOLDER, user));
    }

    public Optional<User> user(String name) {
        return users.stream().filter(u -> u.name().equals(name)).findFirst();
    }

    /**
     * How versions are fetched and where they live. Each version gets its own prefix; {@code link} is switched atomically.
     *
     * @param user the unprivileged OS account that runs all candidate code (npm install scripts, {@code --version}, the
     *             health check's server and minter); never root
     */
    public record Install(Optional<URI> registry, Path versionsDir, Path link, Path npm, Duration timeout, int keepVersions, String user) {
        public static final String DEFAULT_USER = "t3-candidate";
    }

    public record Backup(Path dir, int keep, LocalTime dailyAt) {}

    public record HealthCheck(
            Optional<String> seedUser,
            Path scratchDir,
            int port,
            List<String> pairingEndpoints,
            Duration startTimeout,
            Duration requestTimeout,
            List<Pattern> migrationFailurePatterns) {
        public HealthCheck {
            pairingEndpoints = List.copyOf(pairingEndpoints);
            migrationFailurePatterns = List.copyOf(migrationFailurePatterns);
        }
    }

    /**
     * @param approval   {@code manual}: a bump waits for the operator's {@code promote} after its health check, before
     *                   any user runs it
     * @param pauseAfter when present, a bump waits for {@code promote} again once this many users are verified on it
     */
    public record Canary(Pattern busyPattern, Optional<URI> dispatch, int verifyAttempts, Duration verifyInterval, Duration deferRecheck,
                         Approval approval, Optional<Integer> pauseAfter) {
        /** No approval gate: what most callers (and tests) use. */
        public Canary(Pattern busyPattern, Optional<URI> dispatch, int verifyAttempts, Duration verifyInterval, Duration deferRecheck) {
            this(busyPattern, dispatch, verifyAttempts, verifyInterval, deferRecheck, Approval.AUTO, Optional.empty());
        }
    }

    /** Whether a bump goes on by itself after its health check, or waits for the operator's {@code promote}. */
    public enum Approval { AUTO, MANUAL }

    /** Maintenance window {@code [start, end)} in {@code zone}; a window whose end is before its start spans midnight. */
    public record Window(LocalTime start, LocalTime end) {
        public boolean contains(LocalTime t) {
            return start.isBefore(end) || start.equals(end)
                    ? !t.isBefore(start) && t.isBefore(end)
                    : !t.isBefore(start) || t.isBefore(end);
        }

        @Override
        public String toString() { return start + "-" + end; }
    }

    /** {@code resync}: period of the level-triggered pass; {@code window}: when bumps may start (empty = any time). */
    public record Schedule(Duration resync, Optional<Window> window, ZoneId zone) {}

    public enum BreakerPolicy { FREEZE, BACKOFF }

    public record Breaker(BreakerPolicy policy, Duration initialWait, Duration maxWait) {}

    /** {@code heldBackAfter}: alert when the channel has moved on and we have not followed for this long. */
    /**
     * Where the controller's own alerts go besides the journal: a generic {@code webhook}, or an {@code alertmanager}
     * (its base URL: alerts are posted to {@code /api/v2/alerts} with start and end times, and resolved), never both.
     */
    public record Alerts(Optional<URI> webhook, Optional<URI> alertmanager, Duration heldBackAfter) {
        public Alerts(Optional<URI> webhook, Duration heldBackAfter) { this(webhook, Optional.empty(), heldBackAfter); }
    }

    /**
     * The controller's own files and endpoints. {@code bus} is {@code system}, {@code session}, or a D-Bus
     * address such as {@code unix:path=/run/user/1000/bus}.
     */
    public record Controller(Path stateDb, Path freezeFile, Path pidFile, String metricsAddress, String bus) {}

    /**
     * Coordination with the other hosts of {@code group} through etcd (docs/fleet.md). Absent: the host acts alone.
     *
     * @param hostId             this host's name in the fleet; empty means the contents of /etc/machine-id
     * @param maxConcurrentHosts how many hosts may be inside a rollout (slot taken, not yet released) at once
     * @param canaryHosts        hosts that go first: the others start a version only after every one of these
     *                           promoted it and it ran there for {@code soak}
     * @param leaseTtl           how long a dead host keeps its slot and its status key
     */
    public record Fleet(List<URI> endpoints, Optional<Tls> tls, String group, Optional<String> hostId, int maxConcurrentHosts,
                        List<String> canaryHosts, Duration soak, Duration leaseTtl) {
        public Fleet {
            endpoints = List.copyOf(endpoints);
            canaryHosts = List.copyOf(canaryHosts);
        }
    }

    /** Client-certificate TLS to etcd: {@code ca} verifies the servers (else the JDK's trust store); cert and key are PEM. */
    public record Tls(Optional<Path> ca, Optional<Path> cert, Optional<Path> key) {}
}
