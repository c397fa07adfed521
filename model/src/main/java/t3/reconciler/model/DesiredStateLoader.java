package t3.reconciler.model;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads the desired-state YAML file into a {@link DesiredState}. Every field is optional (see
 * {@code desired-state.example.yaml} and docs/configuration.md for the defaults); every problem is
 * collected and reported as {@code file:line:column: field: message}. Nothing but
 * {@link InvalidDesiredStateException} ever reaches the caller.
 */
public final class DesiredStateLoader {
    private DesiredStateLoader() {}

    /** Files larger than this are refused before parsing: the real one is a few KiB. */
    public static final long MAX_FILE_BYTES = 1L << 20;

    static final List<String> ROOT = List.of("package", "track", "pin", "freeze", "users", "usersFile", "unit", "database",
            "install", "backup", "healthCheck", "canary", "schedule", "breaker", "alerts", "controller", "fleet");
    static final List<String> INSTALL = List.of("registry", "versionsDir", "link", "npm", "timeout", "keepVersions", "user");
    static final List<String> BACKUP = List.of("dir", "keep", "dailyAt");
    static final List<String> HEALTH_CHECK = List.of("seedUser", "scratchDir", "port", "pairingEndpoints", "startTimeout",
            "requestTimeout", "migrationFailurePatterns");
    static final List<String> CANARY = List.of("busyPattern", "dispatch", "verifyAttempts", "verifyInterval", "deferRecheck", "approval", "pauseAfter");
    static final List<String> SCHEDULE = List.of("resync", "window", "zone");
    static final List<String> BREAKER = List.of("policy", "initialWait", "maxWait");
    static final List<String> ALERTS = List.of("webhook", "alertmanager", "heldBackAfter");
    static final List<String> CONTROLLER = List.of("stateDb", "freezeFile", "pidFile", "metrics", "bus");
    static final List<String> FLEET = List.of("endpoints", "tls", "group", "hostId", "maxConcurrentHosts", "canaryHosts", "soak", "leaseTtl");
    static final List<String> FLEET_TLS = List.of("ca", "cert", "key");

    private static final Map<String, List<String>> SECTIONS = sections();

    private static final String DURATION = "a duration (" + Values.DURATION_HELP + ")";
    private static final String PATH = "an absolute path";
    private static final String URL = "an http or https URL";
    private static final String REGEX = "a regular expression";

    /** Reads and validates {@code file}. */
    public static DesiredState load(Path file) throws InvalidDesiredStateException {
        String text;
        try {
            text = BoundedText.read(file, MAX_FILE_BYTES);
        } catch (IOException e) {
            Problems problems = new Problems(file);
            problems.add(YamlNode.Mark.START, "", "file " + BoundedText.why(e));
            throw new InvalidDesiredStateException(problems.sorted());
        }
        Optional<String> untrusted = FileTrust.problem(file);
        if (untrusted.isPresent()) {
            Problems problems = new Problems(file);
            problems.add(YamlNode.Mark.START, "", untrusted.get());
            throw new InvalidDesiredStateException(problems.sorted());
        }
        return parse(text, file);
    }

    /** Validates {@code yaml} as if read from {@code source} (used in messages and nowhere else). */
    public static DesiredState parse(String yaml, Path source) throws InvalidDesiredStateException {
        Problems problems = new Problems(source == null ? Path.of("(desired state)") : source);
        if (yaml.length() > MAX_FILE_BYTES || yaml.getBytes(StandardCharsets.UTF_8).length > MAX_FILE_BYTES) {
            problems.add(YamlNode.Mark.START, "", "file " + BoundedText.why(new BoundedText.TooLarge()));
            problems.throwIfAny();
        }
        String text = yaml.startsWith("\uFEFF") ? yaml.substring(1) : yaml;
        DesiredState state = null;
        try {
            Optional<YamlNode> root = YamlTreeReader.read(text, problems);
            if (root.isPresent()) {
                if (root.get() instanceof YamlNode.Mapping) {
                    state = build(Section.of(problems, "", root.get(), YamlNode.Mark.START, ROOT));
                } else if (!Section.isRejected(root.get())) {
                    problems.add(root.get().mark(), "", "expected a mapping of settings such as 'package: t3', got " + YamlNode.describe(root.get()));
                }
            }
        } catch (RuntimeException e) {
            // A bug here must still reach the operator as a problem, not a stack trace.
            problems.add(YamlNode.Mark.START, "", "internal error while validating: " + e);
        }
        problems.throwIfAny();
        return state;
    }

    /** Every key the loader reads, as dotted paths ({@code install.timeout}, {@code users[].login}). */
    public static Set<String> knownKeys() {
        Set<String> out = new LinkedHashSet<>();
        SECTIONS.forEach((section, keys) -> keys.forEach(k -> out.add(section.isEmpty() ? k : section + "." + k)));
        return out;
    }

    /**
     * Remarks that do not stop the controller but that an operator may not expect, e.g. a pin silencing
     * the track. Printed by {@code validate} and logged at start.
     */
    public static List<String> notes(DesiredState s) {
        List<String> out = new ArrayList<>();
        s.pin().ifPresent(p -> out.add("pin " + p + " overrides track " + s.track().tag()
                + (s.trackExplicit() ? "" : " (the default)") + ": new " + s.track().tag() + " releases are not followed"));
        if (s.freeze()) out.add("freeze is on: no bump will start until it is set to false");
        s.schedule().window().ifPresent(w -> {
            Duration length = Duration.between(w.start(), w.end());
            if (length.isNegative()) length = length.plusDays(1);
            if (s.schedule().resync().compareTo(length) > 0) {
                out.add("schedule.resync " + Values.format(s.schedule().resync()) + " is longer than the window " + w
                        + ": a pass may not fall inside it on every day");
            }
        });
        if (s.alerts().webhook().isEmpty() && s.alerts().alertmanager().isEmpty()) out.add("alerts.webhook is not set: alerts go to the journal only");
        if (s.users().size() == 1) out.add("only one user: the canary and the rest of the rollout are the same person");
        return out;
    }

    private static DesiredState build(Section root) {
        Problems problems = root.problems();
        String packageName = root.value("package", "t3", "an npm package name", Values::packageName);
        Channel track = root.value("track", Channel.NIGHTLY, "nightly or latest", Values::channel);
        Optional<Version> pin = root.optional("pin", "a version such as 0.0.25", Version::parse);
        boolean freeze = root.bool("freeze", false);
        Optional<Path> usersFile = root.optional("usersFile", PATH, Values::absolutePath);
        int before = problems.size();
        List<User> users = UsersReader.read(root, usersFile);
        if (users.isEmpty() && problems.size() == before) {
            root.problem(root.markOf("users"), "users", "no users: list them under users or in usersFile");
        }
        String unit = root.value("unit", "t3-serve@{user}.service", "a unit name", Values::unitTemplate);
        String database = root.value("database", "/home/{user}/.t3/userdata/state.sqlite", PATH, Values::databaseTemplate);

        DesiredState state = new DesiredState(root.problems().file(), packageName, track, root.has("track"), pin, freeze,
                users, usersFile, unit, database,
                install(root.section("install", INSTALL)),
                backup(root.section("backup", BACKUP)),
                healthCheck(root.section("healthCheck", HEALTH_CHECK), users),
                canary(root.section("canary", CANARY)),
                schedule(root.section("schedule", SCHEDULE)),
                breaker(root.section("breaker", BREAKER)),
                alerts(root.section("alerts", ALERTS)),
                controller(root.section("controller", CONTROLLER)),
                root.has("fleet") ? Optional.of(FleetSection.read(root.section("fleet", FLEET))) : Optional.empty());
        root.finish();
        return state;
    }

    private static DesiredState.Install install(Section s) {
        var v = new DesiredState.Install(
                s.optional("registry", "an http or https URL without credentials", Values::registryUrl),
                s.value("versionsDir", Path.of("/var/lib/t3-reconciler/versions"), PATH, Values::absolutePath),
                s.value("link", Path.of("/usr/local/bin/t3"), PATH, Values::absolutePath),
                s.value("npm", Path.of("/usr/bin/npm"), PATH, Values::absolutePath),
                s.value("timeout", Duration.ofMinutes(5), DURATION, Values::duration),
                // The running version and the last good one must both stay on disk for a rollback.
                s.integer("keepVersions", 3, n -> n >= 2 && n <= 100, "from 2 to 100"),
                s.value("user", DesiredState.Install.DEFAULT_USER, "an OS account name", Values::accountName));
        s.finish();
        return v;
    }

    private static DesiredState.Backup backup(Section s) {
        var v = new DesiredState.Backup(
                s.value("dir", Path.of("/var/backups/t3-state"), PATH, Values::absolutePath),
                s.integer("keep", 14, n -> n >= 1 && n <= 1000, "from 1 to 1000"),
                s.value("dailyAt", LocalTime.of(2, 30), "a time of day such as \"02:30\"", Values::timeOfDay));
        s.finish();
        return v;
    }

    private static DesiredState.HealthCheck healthCheck(Section s, List<User> users) {
        Optional<String> written = s.optional("seedUser", "a user name", Values::userName);
        Optional<String> seed = written;
        if (written.isPresent() && !users.isEmpty() && users.stream().noneMatch(u -> u.name().equals(written.get()))) {
            s.problem(s.markOf("seedUser"), s.field("seedUser"), "'" + written.get() + "' is not one of the users ("
                    + String.join(", ", users.stream().limit(10).map(User::name).toList()) + (users.size() > 10 ? ", ..." : "") + ")");
        }
        if (seed.isEmpty() && !users.isEmpty()) seed = Optional.of(users.get(0).name());
        List<String> endpoints = s.list("pairingEndpoints", List.of("/api/auth/browser-session", "/api/auth/bootstrap"),
                "paths such as /api/auth/bootstrap", Values::endpoint);
        if (s.node("pairingEndpoints").orElse(null) instanceof YamlNode.Sequence seq && seq.items().isEmpty()) {
            s.problem(seq.mark(), s.field("pairingEndpoints"), "must list at least one endpoint");
        }
        var v = new DesiredState.HealthCheck(
                seed,
                s.value("scratchDir", Path.of("/var/tmp"), PATH, Values::absolutePath),
                s.integer("port", 0, n -> n == 0 || (n >= 1024 && n <= 65535), "0 (any free port) or from 1024 to 65535"),
                endpoints,
                s.value("startTimeout", Duration.ofMinutes(2), DURATION, Values::duration),
                s.value("requestTimeout", Duration.ofSeconds(10), DURATION, Values::duration),
                s.list("migrationFailurePatterns", List.of(Pattern.compile("(?i)migration.*(fail|error)"), Pattern.compile("SQLITE_(ERROR|CORRUPT)")),
                        "regular expressions", Values::regex));
        s.finish();
        return v;
    }

    private static DesiredState.Canary canary(Section s) {
        var v = new DesiredState.Canary(
                s.value("busyPattern", Pattern.compile("claude|codex|opencode"), REGEX, Values::regex),
                s.optional("dispatch", URL, Values::httpUrl),
                s.integer("verifyAttempts", 5, n -> n >= 1 && n <= 100, "from 1 to 100"),
                s.value("verifyInterval", Duration.ofSeconds(2), DURATION, Values::duration),
                s.value("deferRecheck", Duration.ofMinutes(10), DURATION, Values::duration),
                s.value("approval", DesiredState.Approval.AUTO, "auto or manual", Values::approval),
                // 0 only stands for "not set" here: the range check refuses a written 0 (a pause before any user is approval: manual).
                Optional.of(s.integer("pauseAfter", 0, n -> n >= 1 && n <= 10000, "from 1 to 10000 users (for a pause before any user, approval: manual)")).filter(n -> n > 0));
        s.finish();
        return v;
    }

    private static DesiredState.Schedule schedule(Section s) {
        var v = new DesiredState.Schedule(
                s.value("resync", Duration.ofMinutes(15), DURATION, Values::duration),
                s.value("window", Optional.of(new DesiredState.Window(LocalTime.of(3, 0), LocalTime.of(6, 0))),
                        "a window such as \"03:00-06:00\" or always", Values::window),
                s.value("zone", ZoneId.systemDefault(), "an IANA time zone such as Europe/Berlin", Values::zone));
        s.finish();
        return v;
    }

    private static DesiredState.Breaker breaker(Section s) {
        Duration initial = s.value("initialWait", Duration.ofHours(6), DURATION, Values::duration);
        Duration max = s.value("maxWait", Duration.ofDays(7), DURATION, Values::duration);
        if (max.compareTo(initial) < 0) {
            s.problem(s.markOf("maxWait"), s.field("maxWait"), "must not be shorter than initialWait (" + Values.format(initial) + ")");
        }
        var v = new DesiredState.Breaker(s.value("policy", DesiredState.BreakerPolicy.FREEZE, "freeze or backoff", Values::breakerPolicy), initial, max);
        s.finish();
        return v;
    }

    private static DesiredState.Alerts alerts(Section s) {
        var v = new DesiredState.Alerts(
                s.optional("webhook", URL, Values::httpUrl),
                s.optional("alertmanager", URL, Values::alertmanagerUrl),
                s.value("heldBackAfter", Duration.ofDays(3), DURATION, Values::duration));
        if (v.webhook().isPresent() && v.alertmanager().isPresent()) {
            // One destination: the same alert twice (once resolved, once not) would contradict itself.
            s.problem(s.markOf("alertmanager"), s.field("alertmanager"), "is an alternative to alerts.webhook: set one of them, not both");
        }
        s.finish();
        return v;
    }

    private static DesiredState.Controller controller(Section s) {
        // An unquoted `metrics: off` is the boolean false in YAML; it means what the operator wrote.
        boolean off = s.node("metrics").orElse(null) instanceof YamlNode.Scalar m && m.kind() == YamlNode.Kind.BOOLEAN
                && m.text().toLowerCase(java.util.Locale.ROOT).matches("off|false|no|n");
        String metrics = off ? "off" : s.value("metrics", "127.0.0.1:9464", "host:port or off", Values::metrics);
        var v = new DesiredState.Controller(
                s.value("stateDb", Path.of("/var/lib/t3-reconciler/state.db"), PATH, Values::absolutePath),
                s.value("freezeFile", Path.of("/var/lib/t3-reconciler/freeze"), PATH, Values::absolutePath),
                s.value("pidFile", Path.of("/run/t3-reconciler/t3-reconciler.pid"), PATH, Values::absolutePath),
                metrics,
                s.value("bus", "system", "system, session or a unix: D-Bus address", Values::bus));
        s.finish();
        return v;
    }

    private static Map<String, List<String>> sections() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put("", ROOT);
        m.put("users[]", UsersReader.USER_KEYS);
        m.put("install", INSTALL);
        m.put("backup", BACKUP);
        m.put("healthCheck", HEALTH_CHECK);
        m.put("canary", CANARY);
        m.put("schedule", SCHEDULE);
        m.put("breaker", BREAKER);
        m.put("alerts", ALERTS);
        m.put("controller", CONTROLLER);
        m.put("fleet", FLEET);
        m.put("fleet.tls", FLEET_TLS);
        return m;
    }
}
