package t3.reconciler.controller.actuator.npm;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The part of npm's configuration that decides where {@code npm view} fetches a packument from and with what
 * credentials, read the way npm reads it, so that the controller can ask the registry itself over HTTP instead of
 * starting a node process. What is parsed (later sources win, as in npm): the builtin {@code <npm>/npmrc}, the global
 * {@code <prefix>/etc/npmrc} (or {@code npm_config_globalconfig}), the user's {@code ~/.npmrc} (or
 * {@code npm_config_userconfig}), then {@code npm_config_*} environment variables; ini lines {@code key=value} with
 * {@code ;}/{@code #} comments, {@code ${VAR}} expansion and optional quotes. Keys understood: {@code registry},
 * {@code @scope:registry}, {@code //host[:port]/path/:_authToken}, {@code :_auth}, {@code :username} with
 * {@code :_password}, {@code proxy}, {@code https-proxy}, {@code noproxy} (and the {@code HTTP(S)_PROXY},
 * {@code NO_PROXY} variables npm defaults them from), {@code cafile}, {@code strict-ssl=true}. Keys known not to
 * bear on reading a packument ({@link #IRRELEVANT}) are ignored. Anything else (a client certificate, an inline
 * {@code ca}, {@code strict-ssl=false}, a proxy with credentials, {@code offline}, an ini section, an unknown key)
 * makes {@link #load} answer {@link Unsupported} with the key and file, and the caller falls back to {@code npm view}.
 * Not read: a project's {@code .npmrc} (the controller runs from {@code /}, which has none).
 */
public record NpmConfig(URI registry, Map<String, URI> scopes, Map<String, String> authorization, Optional<URI> httpProxy,
                        Optional<URI> httpsProxy, List<String> noProxy, Optional<Path> cafile) {
    public static final URI DEFAULT_REGISTRY = URI.create("https://registry.npmjs.org/");

    /** Keys that change nothing about one GET of a packument (install, output, audit and cache settings). */
    static final Set<String> IRRELEVANT = Set.of(
            "fund", "audit", "audit-level", "update-notifier", "yes", "nodedir", "omit-lockfile-registry-resolved", "loglevel",
            "progress", "color", "unicode", "prefix", "cache", "save", "save-exact", "save-prefix", "save-dev", "package-lock",
            "package-lock-only", "engine-strict", "ignore-scripts", "foreground-scripts", "script-shell", "python",
            "init-author-name", "init-author-email", "init-author-url", "init-license", "init-version", "init-module",
            "fetch-retries", "fetch-retry-factor", "fetch-retry-mintimeout", "fetch-retry-maxtimeout", "fetch-timeout",
            "maxsockets", "prefer-online", "user-agent", "globalconfig", "userconfig", "globalignorefile", "sign-git-tag",
            "git-tag-version", "tag-version-prefix", "legacy-peer-deps", "strict-peer-deps", "install-links", "fetch-retry",
            "editor", "browser", "usage", "heading", "timing", "logs-dir", "logs-max", "bin-links", "global-style",
            "format-package-lock", "umask", "shell", "omit", "include", "optional", "production", "only", "also", "dev",
            "always-auth", "email");

    private static final Pattern ENV_REF = Pattern.compile("(\\\\*)\\$\\{([^${}?]+)(\\?)?}");
    private static final Pattern SCOPE_REGISTRY = Pattern.compile("(@[a-z0-9][a-z0-9._~-]*):registry");
    private static final Pattern NERF_KEY = Pattern.compile("(//[^\\s]+?/):(_authToken|_auth|username|_password|certfile|keyfile|cert|key|email|always-auth)");

    /** What the HTTP client needs, or why npm itself must be asked. */
    public sealed interface Loaded permits Parsed, Unsupported {}

    public record Parsed(NpmConfig config) implements Loaded {}

    /** @param reason names the key and where it was set, e.g. {@code /root/.npmrc:3: strict-ssl=false} */
    public record Unsupported(String reason) implements Loaded {}

    /** Where npm looks: the files in order (missing ones skipped) and the environment. */
    public record Sources(List<Path> files, Map<String, String> env) {
        /** As npm run by this process would find them, {@code npm} being the configured executable. */
        public static Sources of(Path npm) {
            Map<String, String> env = System.getenv();
            List<Path> files = new ArrayList<>();
            builtin(npm).ifPresent(files::add);
            String global = envValue(env, "globalconfig");
            files.add(global != null ? Path.of(global) : globalPrefix(npm, env).resolve("etc").resolve("npmrc"));
            String user = envValue(env, "userconfig");
            String home = env.getOrDefault("HOME", System.getProperty("user.home"));
            files.add(user != null ? Path.of(user) : Path.of(home, ".npmrc"));
            return new Sources(files, env);
        }

        /** npm's package directory holds its builtin {@code npmrc}; bin/npm-cli.js sits one level below it. */
        private static Optional<Path> builtin(Path npm) {
            try {
                Path real = npm.toRealPath();
                for (Path p = real.getParent(); p != null; p = p.getParent()) {
                    if (Files.isRegularFile(p.resolve("package.json")) && p.getFileName() != null && p.getFileName().toString().equals("npm")) {
                        return Optional.of(p.resolve("npmrc"));
                    }
                }
            } catch (IOException e) {
                // no such npm: the fallback will say so
            }
            return Optional.empty();
        }

        /** npm's global prefix: {@code npm_config_prefix}/{@code PREFIX}, else two levels above the node binary it runs on. */
        private static Path globalPrefix(Path npm, Map<String, String> env) {
            String set = envValue(env, "prefix");
            if (set == null) set = env.get("PREFIX");
            if (set != null) return Path.of(set);
            Path node = npm.toAbsolutePath().resolveSibling("node"); // npm's shebang is "env node": the node beside it, as installed
            if (!Files.isExecutable(node)) node = Path.of("/usr/bin/node");
            try {
                node = node.toRealPath();
            } catch (IOException e) {
                // keep the unresolved path
            }
            Path bin = node.getParent();
            return bin != null && bin.getParent() != null ? bin.getParent() : Path.of("/usr");
        }
    }

    /** The merged configuration from {@code sources}, or why it is beyond this parser. */
    public static Loaded load(Sources sources) {
        Map<String, String> kv = new LinkedHashMap<>();
        Map<String, String> origin = new LinkedHashMap<>();
        for (Path file : sources.files()) {
            if (!Files.isRegularFile(file)) continue; // missing: npm skips it too
            List<String> lines;
            try {
                lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return new Unsupported(file + ": cannot read: " + e.getMessage());
            }
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).strip();
                if (line.isEmpty() || line.startsWith(";") || line.startsWith("#")) continue;
                String where = file + ":" + (i + 1);
                if (line.startsWith("[")) return new Unsupported(where + ": ini section " + line);
                int eq = line.indexOf('=');
                if (eq <= 0) return new Unsupported(where + ": not key=value");
                String key = line.substring(0, eq).strip();
                if (key.endsWith("[]")) return new Unsupported(where + ": list key " + key);
                Optional<String> value = expand(unquote(line.substring(eq + 1).strip()), sources.env());
                if (value.isEmpty()) return new Unsupported(where + ": " + key + " names an unset environment variable");
                kv.put(key, value.get());
                origin.put(key, where);
            }
        }
        for (Map.Entry<String, String> e : sources.env().entrySet()) {
            if (!e.getKey().regionMatches(true, 0, "npm_config_", 0, 11) || e.getKey().length() == 11) continue;
            String key = e.getKey().substring(11).replaceAll("(?!^)_", "-").toLowerCase(Locale.ROOT);
            kv.put(key, e.getValue());
            origin.put(key, "environment " + e.getKey());
        }
        return interpret(kv, origin, sources.env());
    }

    private static Loaded interpret(Map<String, String> kv, Map<String, String> origin, Map<String, String> env) {
        URI registry = DEFAULT_REGISTRY;
        Map<String, URI> scopes = new LinkedHashMap<>();
        Map<String, Map<String, String>> perHost = new LinkedHashMap<>();
        String proxy = firstEnv(env, "HTTP_PROXY", "http_proxy");
        String httpsProxy = firstEnv(env, "HTTPS_PROXY", "https_proxy");
        String noProxy = firstEnv(env, "NO_PROXY", "no_proxy");
        Optional<Path> cafile = Optional.empty();
        for (Map.Entry<String, String> e : kv.entrySet()) {
            String key = e.getKey(), value = e.getValue(), where = origin.get(key);
            Matcher scope = SCOPE_REGISTRY.matcher(key), nerf = NERF_KEY.matcher(key);
            try {
                if (key.equals("registry")) registry = registryUri(value);
                else if (scope.matches()) scopes.put(scope.group(1), registryUri(value));
                else if (nerf.matches()) perHost.computeIfAbsent(nerf.group(1), k -> new LinkedHashMap<>()).put(nerf.group(2), value);
                else if (key.equals("proxy")) proxy = value;
                else if (key.equals("https-proxy")) httpsProxy = value;
                else if (key.equals("noproxy")) noProxy = value;
                else if (key.equals("cafile")) cafile = Optional.of(Path.of(value));
                else if (key.equals("strict-ssl") && value.equals("true")) continue;
                else if (!IRRELEVANT.contains(key)) return new Unsupported(where + ": " + key + " is beyond what the HTTP client reads");
            } catch (IllegalArgumentException bad) {
                return new Unsupported(where + ": " + key + ": " + bad.getMessage());
            }
        }
        Map<String, String> authorization = new LinkedHashMap<>();
        for (Map.Entry<String, Map<String, String>> h : perHost.entrySet()) {
            Map<String, String> a = h.getValue();
            for (String k : a.keySet()) {
                if (!Set.of("_authToken", "_auth", "username", "_password", "email", "always-auth").contains(k)) {
                    return new Unsupported(origin.get(h.getKey() + ":" + k) + ": " + h.getKey() + ":" + k + " (client certificates) is beyond what the HTTP client reads");
                }
            }
            if (a.containsKey("_authToken")) authorization.put(h.getKey(), "Bearer " + a.get("_authToken"));
            else if (a.containsKey("_auth")) authorization.put(h.getKey(), "Basic " + a.get("_auth"));
            else if (a.containsKey("username") && a.containsKey("_password")) {
                String password = new String(Base64.getDecoder().decode(a.get("_password")), StandardCharsets.UTF_8);
                authorization.put(h.getKey(), "Basic " + Base64.getEncoder().encodeToString((a.get("username") + ":" + password).getBytes(StandardCharsets.UTF_8)));
            } else if (a.containsKey("username") || a.containsKey("_password")) {
                return new Unsupported(h.getKey() + ": username and _password come together");
            }
        }
        Optional<URI> http, https;
        try {
            http = proxy(proxy);
            https = proxy(httpsProxy);
        } catch (IllegalArgumentException bad) {
            return new Unsupported("proxy: " + bad.getMessage());
        }
        List<String> no = noProxy == null ? List.of()
                : List.of(noProxy.split("[,\\s]+")).stream().map(s -> s.strip().toLowerCase(Locale.ROOT)).filter(s -> !s.isEmpty()).toList();
        return new Parsed(new NpmConfig(registry, Map.copyOf(scopes), Map.copyOf(authorization), http, https, no, cafile));
    }

    /** The registry for {@code pkg}: its scope's, else the default. */
    public URI registryFor(PackageName pkg) {
        String name = pkg.value();
        if (name.startsWith("@")) {
            URI scoped = scopes.get(name.substring(0, name.indexOf('/')));
            if (scoped != null) return scoped;
        }
        return registry;
    }

    /**
     * The credentials npm sends to {@code registry}: those of the longest {@code //host[:port]/path/} prefix of it, as
     * npm-registry-fetch walks the path up, never another host's.
     */
    public Optional<String> authorizationFor(URI registry) {
        String nerf = "//" + registry.getHost() + (registry.getPort() < 0 ? "" : ":" + registry.getPort()) + registry.getPath();
        if (!nerf.endsWith("/")) nerf += "/";
        while (nerf.length() > 2) {
            String found = authorization.get(nerf);
            if (found != null) return Optional.of(found);
            int cut = nerf.lastIndexOf('/', nerf.length() - 2);
            if (cut < 2) break;
            nerf = nerf.substring(0, cut + 1);
        }
        return Optional.empty();
    }

    /** The proxy for {@code target}, honouring {@code noproxy} (exact hosts and domain suffixes, {@code *} for all). */
    public Optional<URI> proxyFor(URI target) {
        String host = target.getHost().toLowerCase(Locale.ROOT);
        for (String n : noProxy) {
            String d = n.startsWith("*.") ? n.substring(1) : n;
            if (d.equals("*") || host.equals(d.replaceFirst("^\\.", "")) || (d.startsWith(".") ? host.endsWith(d) : host.endsWith("." + d))) return Optional.empty();
        }
        return "https".equals(target.getScheme()) ? httpsProxy.or(() -> httpProxy) : httpProxy;
    }

    private static URI registryUri(String value) {
        URI u = URI.create(value.endsWith("/") ? value : value + "/");
        if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null) throw new IllegalArgumentException("not an http(s) URL: " + value);
        if (u.getRawUserInfo() != null) throw new IllegalArgumentException("credentials in the URL");
        return u;
    }

    private static Optional<URI> proxy(String value) {
        if (value == null || value.isBlank() || value.equals("null") || value.equals("false")) return Optional.empty();
        URI u = URI.create(value.contains("://") ? value : "http://" + value);
        if (!"http".equals(u.getScheme()) || u.getHost() == null) throw new IllegalArgumentException("only http:// proxies are read: " + value);
        if (u.getRawUserInfo() != null) throw new IllegalArgumentException("a proxy with credentials");
        return Optional.of(u);
    }

    private static String unquote(String v) {
        if (v.length() >= 2 && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))) return v.substring(1, v.length() - 1);
        return v;
    }

    /** npm's {@code ${VAR}} expansion; {@code ${VAR?}} is empty when unset, a plain unset one is an error in npm too. */
    private static Optional<String> expand(String v, Map<String, String> env) {
        Matcher m = ENV_REF.matcher(v);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String slashes = m.group(1);
            if (slashes.length() % 2 == 1) { // escaped: kept literally, one backslash less
                m.appendReplacement(out, Matcher.quoteReplacement(slashes.substring(1) + m.group().substring(slashes.length())));
                continue;
            }
            String value = env.get(m.group(2));
            if (value == null && m.group(3) == null) return Optional.empty();
            m.appendReplacement(out, Matcher.quoteReplacement(slashes.substring(slashes.length() / 2) + (value == null ? "" : value)));
        }
        m.appendTail(out);
        return Optional.of(out.toString());
    }

    private static String envValue(Map<String, String> env, String key) {
        for (Map.Entry<String, String> e : env.entrySet()) {
            if (e.getKey().equalsIgnoreCase("npm_config_" + key)) return e.getValue();
        }
        return null;
    }

    private static String firstEnv(Map<String, String> env, String... names) {
        for (String n : names) if (env.get(n) != null && !env.get(n).isBlank()) return env.get(n);
        return null;
    }
}
