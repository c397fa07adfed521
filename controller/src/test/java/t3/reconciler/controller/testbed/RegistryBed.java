package t3.reconciler.controller.testbed;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import t3.reconciler.controller.actuator.proc.Exec;

/**
 * A real npm registry (verdaccio, no uplinks) on a free loopback port, holding builds of the stand-in t3 from
 * {@code testbed/t3-standin}. A thin wrapper over {@code testbed/registry.sh}; see that script for the details.
 *
 * <pre>{@code
 * try (RegistryBed bed = RegistryBed.start(tempDir)) {
 *     bed.publish("0.0.24", Flavor.GOOD, RegistryBed.DEFAULT_SCHEMA, "latest");
 *     bed.publish("0.0.25-nightly.20260608.497", Flavor.LEGACY, 3, "nightly");
 *     Packages npm = new NpmPackages(Path.of("npm"), Optional.of(bed.url()), Duration.ofMinutes(2));
 *     npm.install(RegistryBed.PACKAGE, Version.parse("0.0.24"), prefix);   // prefix/bin/t3 is the stand-in
 * }
 * }</pre>
 *
 * The first use on a machine installs verdaccio from the public npm registry into {@code ~/.cache/t3-reconciler}
 * (about 30 s); later starts take about 2 s. Each bed is its own process with its own storage in {@code dir}, so
 * beds of parallel tests do not meet.
 */
public final class RegistryBed implements AutoCloseable {
    /** The stand-in's npm package name (and its binary's name). */
    public static final String PACKAGE = "t3";
    /** For {@link #publish}: the flavor's own schema level (4; 3 for {@link Flavor#LEGACY}). */
    public static final int DEFAULT_SCHEMA = 0;

    private static final Duration UP_TIMEOUT = Duration.ofMinutes(8); // covers the first-time verdaccio install
    private static final Duration CALL_TIMEOUT = Duration.ofMinutes(2);

    /** The stand-in's builds. Each broken flavor breaks one thing a health check gates on. */
    public enum Flavor {
        /** {@code /api/auth/browser-session}, cookie {@code t3_session}, credentials with {@code scopes}. */
        GOOD("good"),
        /** Older t3: only {@code /api/auth/bootstrap}, {@code role} field, schema 3. Passes. */
        LEGACY("legacy"),
        /** Cookie {@code t3_session_<port>_<hash>} on loopback, announced in sessionCookieName. Passes. */
        RENAMED_COOKIE("renamed-cookie"),
        /** An extra migration that fails when projection tables hold rows; fine on an empty database. */
        MIGRATION_FAILS_POPULATED("migration-fails-populated"),
        /** Pairing only at an unknown path: every known endpoint answers 404. */
        ENDPOINT_RENAMED("endpoint-renamed"),
        /** Pairing endpoints answer 401. */
        PAIRING_401("pairing-401"),
        /** {@code serve} logs an error and exits 1. */
        CRASH_ON_START("crash-on-start"),
        /** Sets the cookie, but the session never says authenticated. */
        COOKIE_NOT_AUTHENTICATING("cookie-not-authenticating"),
        /** {@code serve} accepts connections and never answers. */
        HANG("hang"),
        /** {@code auth pairing create} exits 1. */
        MINT_FAILS("mint-fails"),
        /** Good; its preinstall script, --version, serve and the minter each record their uid (see {@link #recordDir}). */
        RECORD_UID("record-uid"),
        /** RECORD_UID whose preinstall script leaves a detached process that keeps trying to change the install. */
        LINGER_INSTALL("linger-install");

        private final String id;

        Flavor(String id) { this.id = id; }

        /** As registry.sh spells it. */
        public String id() { return id; }
    }

    private final Path dir;
    private final URI url;

    private RegistryBed(Path dir, URI url) {
        this.dir = dir;
        this.url = url;
    }

    /** Starts a registry whose state lives in {@code dir} (created if missing). */
    public static RegistryBed start(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath();
        String out = script(UP_TIMEOUT, "up", abs.toString());
        return new RegistryBed(abs, URI.create(out.strip()));
    }

    /** e.g. {@code http://127.0.0.1:41234/}; pass it to npm as {@code --registry}. */
    public URI url() { return url; }

    /**
     * Publishes the stand-in as {@code version} with {@code flavor} baked in, and points each of {@code tags} at it.
     * With no tags no dist-tag moves, except that the registry's very first publish also becomes {@code latest}
     * (verdaccio does that).
     *
     * @param schema how many migrations this build knows (3..6), or {@link #DEFAULT_SCHEMA}
     */
    public RegistryBed publish(String version, Flavor flavor, int schema, String... tags) throws IOException {
        List<String> args = new ArrayList<>(List.of("publish", dir.toString(), version, flavor.id(), schema == DEFAULT_SCHEMA ? "" : Integer.toString(schema)));
        args.addAll(List.of(tags));
        script(CALL_TIMEOUT, args.toArray(String[]::new));
        return this;
    }

    /** Points {@code tag} at {@code version}, backwards too. */
    public RegistryBed tag(String version, String tag) throws IOException {
        script(CALL_TIMEOUT, "tag", dir.toString(), version, tag);
        return this;
    }

    /**
     * The registry's stored metadata (packument) of {@link #PACKAGE}, read afresh on every request: editing it makes
     * a registry that lies, for tests of what we do with its answers.
     */
    public Path packument() { return dir.resolve("storage").resolve(PACKAGE).resolve("package.json"); }

    /** Stops this bed's registry (only its own process). Its storage stays in {@code dir}. */
    @Override
    public void close() {
        try {
            script(CALL_TIMEOUT, "down", dir.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** npm as found on PATH, absolute: candidate code is started by absolute path only (see {@code Account.wrap}). */
    public static Path npm() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path p = Path.of(dir, "npm").toAbsolutePath();
            if (Files.isExecutable(p)) return p;
        }
        throw new IllegalStateException("no npm on PATH");
    }

    /** The account the controller runs candidate code as by default; created (useradd --system) if missing. */
    public static String candidateAccount() throws IOException {
        String name = t3.reconciler.model.DesiredState.Install.DEFAULT_USER;
        if (!Exec.run(List.of("id", "-u", name), CALL_TIMEOUT).ok()) {
            Exec.Result r = Exec.run(List.of("useradd", "--system", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", name), CALL_TIMEOUT);
            if (!r.ok() && !Exec.run(List.of("id", "-u", name), CALL_TIMEOUT).ok()) throw new IOException("useradd " + name + " failed: " + r.tail());
        }
        return name;
    }

    /**
     * Where a {@link Flavor#RECORD_UID} build of {@code version} records who ran it: one empty file
     * {@code <what>.<uid>.<pid>} per run. Made afresh here: root's, world-writable and not sticky, so every account may
     * add its own file.
     */
    public static Path recordDir(String version) throws IOException {
        Path root = Path.of("/tmp/t3-standin-record");
        Files.createDirectories(root);
        Path dir = root.resolve(version);
        Exec.run(List.of("rm", "-rf", "--", dir.toString()), CALL_TIMEOUT);
        Files.createDirectory(dir);
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        return dir;
    }

    /** The checkout's root: the nearest directory at or above {@code user.dir} that has {@code testbed/}. */
    public static Path repoRoot() {
        for (Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("testbed").resolve("registry.sh"))) return p;
        }
        throw new IllegalStateException("no testbed/registry.sh at or above " + System.getProperty("user.dir"));
    }

    private static String script(Duration timeout, String... args) throws IOException {
        List<String> argv = new ArrayList<>(List.of("bash", repoRoot().resolve("testbed").resolve("registry.sh").toString()));
        argv.addAll(List.of(args));
        Exec.Result r = Exec.run(argv, timeout);
        if (!r.ok()) throw new IOException("registry.sh " + args[0] + " failed (" + r.exitCode() + "):\n" + r.tail());
        return r.stdout();
    }
}
