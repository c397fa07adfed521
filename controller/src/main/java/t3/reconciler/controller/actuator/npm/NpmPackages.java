package t3.reconciler.controller.actuator.npm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import org.slf4j.LoggerFactory;
import java.net.URI;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.Packages;
import t3.reconciler.controller.actuator.proc.Account;
import t3.reconciler.controller.actuator.proc.CandidateAccount;
import t3.reconciler.controller.actuator.proc.Handoff;
import t3.reconciler.controller.actuator.proc.PidNamespace;
import t3.reconciler.controller.actuator.proc.DescriptorTrees;
import t3.reconciler.controller.actuator.proc.Exec;
import t3.reconciler.controller.actuator.proc.FileTrees;
import t3.reconciler.model.Channel;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.Version;

/**
 * {@link Packages} through the npm CLI. Every argument is either a constant, a validated {@link PackageName} or
 * {@link Version}, the operator's registry URI, or a path we chose; the registry's answers are parsed before use.
 *
 * <p>Candidate code never runs as root: {@code npm install} (whose install scripts are the candidate's code; the real
 * t3 compiles a native module in one, so {@code --ignore-scripts} is no option) and {@code t3 --version} run as the
 * unprivileged {@code install.user} account. The install lands in a staging directory only root and that account can
 * enter, npm runs in a PID namespace of its own, so once it exits nothing it started is left running; then the tree
 * is re-owned to root (no links followed) and only then renamed into place, in a directory only root writes, so
 * nothing the candidate started can change a release.
 */
public final class NpmPackages implements Packages {
    /** npm error codes that say "try again later" rather than "this does not exist". */
    private static final Set<String> TRANSIENT_CODES = Set.of(
            "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ESOCKETTIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH",
            "ENETUNREACH", "ENETDOWN", "EPIPE", "ECONNABORTED", "EPROTO", "E408", "E429", "ENOSPC", "EBUSY",
            "FETCH_ERROR"); // npm's fetch gives up on a registry that accepts and never answers ("network timeout at: ...")
    private static final Duration VERSION_TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path npm;
    private final Optional<URI> registry;
    private final Duration timeout;
    private final String account;
    private final NpmConfig.Sources sources;
    private final RegistryClient http = new RegistryClient();
    private volatile String lastFallback = "";

    /**
     * @param npm      the npm executable
     * @param registry overrides npm's configured registry when present
     * @param timeout  bound on one npm run; its process tree is killed past it
     * @param account  the unprivileged account that runs candidate code ({@code install.user})
     */
    public NpmPackages(Path npm, Optional<URI> registry, Duration timeout, String account) {
        this(npm, registry, timeout, account, NpmConfig.Sources.of(npm));
    }

    /** @param sources where npm's configuration is read from (tests point it at files of their own) */
    public NpmPackages(Path npm, Optional<URI> registry, Duration timeout, String account, NpmConfig.Sources sources) {
        this.sources = sources;
        this.npm = npm;
        this.registry = registry;
        this.timeout = timeout;
        this.account = account;
    }

    public static NpmPackages from(DesiredState.Install install) {
        return new NpmPackages(install.npm(), install.registry(), install.timeout(), install.user());
    }

    /**
     * Over HTTP when npm's configuration is within what {@link NpmConfig} reads (one request, a 304 when nothing
     * moved); else, or when the registry answers in a way the client does not follow, through {@code npm view}.
     */
    @Override
    public Version resolve(String pkg, Channel channel) throws ActuatorException {
        PackageName name = new PackageName(pkg);
        NpmConfig.Loaded loaded = NpmConfig.load(sources);
        String fallback;
        if (loaded instanceof NpmConfig.Parsed parsed) {
            NpmConfig config = parsed.config();
            URI url = name.value().startsWith("@") && config.scopes().containsKey(name.value().substring(0, name.value().indexOf('/')))
                    ? config.registryFor(name) : registry.orElse(config.registry());
            try {
                return http.resolve(config, url, name, channel.tag(), fetchTimeout());
            } catch (RegistryClient.BeyondUs e) {
                fallback = e.getMessage();
            }
        } else {
            fallback = ((NpmConfig.Unsupported) loaded).reason();
        }
        if (!fallback.equals(lastFallback)) {
            lastFallback = fallback;
            // A warning: each resolve now costs a node process (~0.8 s) instead of one HTTP request.
            LoggerFactory.getLogger(NpmPackages.class).warn("channel resolution falls back to npm view: {}", fallback);
        }
        return resolveWithNpmView(name, channel);
    }

    private Version resolveWithNpmView(PackageName name, Channel channel) throws ActuatorException {
        Exec.Result r = npm("view", List.of(name + "@" + channel.tag(), "version", "--json"));
        if (!r.ok()) throw failure("npm view " + name + "@" + channel.tag(), r);
        JsonNode answer;
        try {
            answer = JSON.readTree(r.stdout());
        } catch (IOException e) {
            throw ActuatorException.verdict("npm view " + name + "@" + channel.tag() + " answered something that is not JSON: " + Exec.tail(r.stdout(), 3));
        }
        if (answer == null || !answer.isTextual()) {
            throw ActuatorException.verdict("npm view " + name + "@" + channel.tag() + " did not answer one version: " + Exec.tail(r.stdout(), 3));
        }
        try {
            return Version.parse(answer.asText());
        } catch (IllegalArgumentException e) {
            throw ActuatorException.verdict("registry answered an invalid version for " + name + "@" + channel.tag() + ": " + e.getMessage());
        }
    }

    /** npm's own fetch timeout as we set it for npm ({@link #npmArgv}): the same bound either way. */
    private Duration fetchTimeout() { return Duration.ofMillis(Math.max(1000, Math.min(timeout.toMillis() / 2, 60_000))); }

    @Override
    public void install(String pkg, Version version, Path prefix) throws ActuatorException {
        PackageName name = new PackageName(pkg);
        Account as = CandidateAccount.resolve(account);
        Path target = prefix.toAbsolutePath().normalize();
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) throw ActuatorException.verdict("refusing to install over " + target + ": it already exists");
        String stagePrefix = ".staging-" + version + "-";
        removeStaleStages(target.getParent(), stagePrefix);
        Path staging;
        try {
            staging = Handoff.create(target.getParent(), stagePrefix, as);
            Handoff.give(staging, "prefix", as, "rwxr-xr-x");
            Handoff.give(staging, "home", as, "rwx------");
        } catch (IOException e) {
            // Transient: a setup fault (the account cannot reach versionsDir) is the operator's to fix, not the build's.
            throw ActuatorException.transientFault("cannot make a staging dir beside " + target + ": " + e.getMessage(), e);
        }
        try {
            Path staged = staging.resolve("prefix");
            Path home = staging.resolve("home");
            // In a PID namespace: when npm exits, whatever an install script left running (a daemon that would keep
            // writing into the stage) is killed with it, before root re-owns anything.
            Exec.Result r = npm(as, home, "install", List.of("-g", "--prefix", staged.toString(), name + "@" + version,
                    "--json", "--no-audit", "--no-fund", "--no-update-notifier"));
            if (!r.ok()) throw failure("npm install " + name + "@" + version, r);
            try {
                Handoff.close(staging);
                DescriptorTrees.reownToRoot(staged);
            } catch (IOException e) {
                throw ActuatorException.verdict("npm install " + name + "@" + version + " left something no release may hold: " + e.getMessage());
            }
            Path bin = staged.resolve("bin").resolve(name.binName());
            if (!Files.isExecutable(bin)) {
                throw ActuatorException.verdict("npm installed " + name + "@" + version + " but " + target.resolve("bin").resolve(name.binName()) + " is not an executable");
            }
            try {
                Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new ActuatorException("cannot move the staged install into " + target + ": " + e.getMessage(), false, e);
            }
        } finally {
            try {
                DescriptorTrees.delete(staging);
            } catch (IOException e) {
                // only disk: a dot-named stage is never taken for a version
            }
        }
    }

    /**
     * Stages of this version left by a controller that died mid-install. The parent is root's (only root creates
     * entries in it), so listing it by name is safe here, unlike in a directory others can write.
     */
    private static void removeStaleStages(Path parent, String stagePrefix) {
        if (!Files.isDirectory(parent, LinkOption.NOFOLLOW_LINKS)) return;
        try (DirectoryStream<Path> stale = Files.newDirectoryStream(parent, p -> p.getFileName().toString().startsWith(stagePrefix))) {
            for (Path p : stale) DescriptorTrees.delete(p);
        } catch (IOException e) {
            // only disk: a dot-named stage is never taken for a version
        }
    }

    @Override
    public Optional<Version> installedVersion(String pkg, Path prefix) throws ActuatorException {
        Path bin = prefix.toAbsolutePath().resolve("bin").resolve(new PackageName(pkg).binName());
        if (!Files.isExecutable(bin)) return Optional.empty();
        Account as = CandidateAccount.resolve(account);
        Exec.Result r;
        try {
            r = Exec.run(PidNamespace.wrap(as.wrap(List.of(bin.toString(), "--version"), Optional.empty(), List.of(), Account.binDirOf(npm))), VERSION_TIMEOUT, Map.of(), Path.of("/"));
        } catch (IOException e) {
            return Optional.empty(); // there, but not runnable (a dangling link, a missing interpreter, a hang)
        }
        if (!r.ok()) return Optional.empty();
        try {
            return Optional.of(Version.fromVersionOutput(r.stdout()));
        } catch (IllegalArgumentException e) {
            throw ActuatorException.verdict(bin + " --version printed no version: " + e.getMessage());
        }
    }

    /** {@code npm install} as the candidate account, its cache and HOME in its private {@code home}. */
    private Exec.Result npm(Account as, Path home, String command, List<String> args) throws ActuatorException {
        List<String> argv = npmArgv(command, args, home.resolve("npm-cache"));
        try {
            return Exec.run(PidNamespace.wrap(as.wrap(argv, Optional.of(home), List.of("NO_UPDATE_NOTIFIER=1"), Account.binDirOf(npm))), timeout, Map.of(), home);
        } catch (Exec.TimedOut e) {
            throw ActuatorException.transientFault("npm " + command + " timed out: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new ActuatorException("cannot run " + npm + " as " + as.name() + ": " + e.getMessage(), false, e);
        }
    }

    private List<String> npmArgv(String command, List<String> args, Path cache) {
        List<String> argv = new ArrayList<>(List.of(npm.toString(), command));
        argv.addAll(args);
        registry.ifPresent(u -> argv.add("--registry=" + u));
        // npm's default retries a dead registry for about 70 s; fail at once and let the controller's backoff retry.
        long fetchMs = fetchTimeout().toMillis();
        argv.addAll(List.of("--fetch-retries=0", "--fetch-timeout=" + fetchMs, "--loglevel=error"));
        argv.add("--cache=" + cache);
        return argv;
    }

    /** {@code npm view} and the like: they run no package code, so as ourselves. */
    private Exec.Result npm(String command, List<String> args) throws ActuatorException {
        // A cache of its own per run: npm answers from a stale cached packument when the registry does not answer
        // (so an outage would look like a tag that did not move), and its cache is keyed by URL, so another
        // registry once served from the same address (a mirror moved, a loopback port reused) could answer instead.
        Path cache;
        try {
            cache = Files.createTempDirectory("t3-reconciler-npm-");
        } catch (IOException e) {
            throw new ActuatorException("cannot create a cache dir for npm: " + e.getMessage(), false, e);
        }
        List<String> argv = npmArgv(command, args, cache);
        try {
            return Exec.run(argv, timeout, Map.of("NO_UPDATE_NOTIFIER", "1"), null);
        } catch (Exec.TimedOut e) {
            throw ActuatorException.transientFault("npm " + command + " timed out: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new ActuatorException("cannot run " + npm + ": " + e.getMessage(), false, e);
        } finally {
            try {
                FileTrees.delete(cache);
            } catch (IOException e) {
                // only disk: the next run uses a new one
            }
        }
    }

    /** The last lines of a multi-line text as one bounded line (event reasons and log lines are one line). */
    static String oneLine(String text) {
        List<String> lines = text.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        String joined = String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
        return joined.length() > 400 ? joined.substring(0, 400) + "..." : joined;
    }

    /** Reads npm's {@code --json} error object; network trouble is transient, a missing package or version is a verdict. */
    static ActuatorException failure(String what, Exec.Result r) {
        String code = "";
        String summary = r.tail();
        try {
            JsonNode err = JSON.readTree(r.stdout()).path("error");
            code = err.path("code").asText("");
            if (err.hasNonNull("summary")) summary = err.get("summary").asText();
            // A lifecycle script that exits non-zero: npm's code is its exit status and the summary only says
            // "command failed"; what the script printed is in detail, and that is the reason worth logging.
            if (code.matches("\\d+") && err.hasNonNull("detail")) summary = summary + ": " + oneLine(err.get("detail").asText());
        } catch (IOException | RuntimeException e) {
            // not JSON: fall back to stderr
        }
        String msg = what + " failed" + (code.isEmpty() ? "" : " (" + code + ")") + ": " + summary;
        boolean transientFault = TRANSIENT_CODES.contains(code) || code.matches("E5\\d\\d")
                || code.isEmpty() && summary.matches("(?s).*(ECONNREFUSED|ETIMEDOUT|ECONNRESET|EAI_AGAIN|socket hang up).*");
        return new ActuatorException(msg, transientFault);
    }
}
