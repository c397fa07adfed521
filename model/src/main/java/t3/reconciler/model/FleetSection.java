package t3.reconciler.model;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/** Reads the optional {@code fleet:} section (docs/fleet.md): where etcd is, and how this host takes part. */
final class FleetSection {
    private FleetSection() {}

    /** etcd names lease TTLs in whole seconds and refuses ones shorter than its election timeout allows (about 2s by default). */
    static final Duration MIN_LEASE_TTL = Duration.ofSeconds(2);
    static final Duration MAX_LEASE_TTL = Duration.ofHours(1);

    /** Names become etcd key segments: no '/', nothing a shell or a log line would misread. */
    private static final Pattern GROUP = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    private static final String DURATION = "a duration (" + Values.DURATION_HELP + ")";
    private static final String PATH = "an absolute path";

    static DesiredState.Fleet read(Section s) {
        List<URI> endpoints = s.list("endpoints", List.of(), "etcd client URLs such as https://10.0.0.1:2379", FleetSection::endpoint);
        if (!s.has("endpoints")) {
            s.problem(s.mark(), s.field("endpoints"), "missing: list the etcd client URLs, e.g. [https://10.0.0.1:2379]");
        } else if (s.node("endpoints").orElse(null) instanceof YamlNode.Sequence seq && seq.items().isEmpty()) {
            s.problem(seq.mark(), s.field("endpoints"), "must list at least one etcd client URL");
        }
        Set<String> schemes = new HashSet<>();
        endpoints.forEach(u -> schemes.add(u.getScheme().toLowerCase(java.util.Locale.ROOT)));
        if (schemes.size() > 1) {
            s.problem(s.markOf("endpoints"), s.field("endpoints"), "mixes http and https: one cluster speaks one of them");
        }
        Optional<DesiredState.Tls> tls = s.has("tls") ? Optional.of(tls(s.section("tls", DesiredStateLoader.FLEET_TLS))) : Optional.empty();
        if (tls.isPresent() && schemes.contains("http")) {
            s.problem(s.markOf("tls"), s.field("tls"), "is set but the endpoints use http: write them as https:// URLs");
        }

        List<String> canaries = s.list("canaryHosts", List.of(), "host ids", FleetSection::hostId);
        Set<String> seen = new HashSet<>();
        if (s.node("canaryHosts").orElse(null) instanceof YamlNode.Sequence seq) {
            for (int i = 0; i < seq.items().size() && i < canaries.size(); i++) {
                if (!seen.add(canaries.get(i))) {
                    s.problem(seq.items().get(i).mark(), s.field("canaryHosts") + "[" + i + "]", "'" + canaries.get(i) + "' is listed twice");
                }
            }
        }
        Duration ttl = s.value("leaseTtl", Duration.ofSeconds(30), DURATION, Values::duration);
        if (ttl.getNano() != 0 || ttl.compareTo(MIN_LEASE_TTL) < 0 || ttl.compareTo(MAX_LEASE_TTL) > 0) {
            s.problem(s.markOf("leaseTtl"), s.field("leaseTtl"), "must be whole seconds from 2s to 1h (got " + Values.format(ttl) + ")");
            ttl = Duration.ofSeconds(30);
        }
        var v = new DesiredState.Fleet(
                endpoints,
                tls,
                s.value("group", "default", "a group name", FleetSection::group),
                s.optional("hostId", "a host id", FleetSection::hostId),
                s.integer("maxConcurrentHosts", 1, n -> n >= 1 && n <= 1000, "from 1 to 1000"),
                canaries,
                s.value("soak", Duration.ofHours(1), DURATION, Values::duration),
                ttl);
        s.finish();
        return v;
    }

    private static DesiredState.Tls tls(Section s) {
        Optional<Path> cert = s.optional("cert", PATH, Values::absolutePath);
        Optional<Path> key = s.optional("key", PATH, Values::absolutePath);
        if (cert.isPresent() != key.isPresent()) {
            String missing = cert.isPresent() ? "key" : "cert";
            s.problem(s.mark(), s.field(missing), "missing: a client certificate needs both cert and key");
        }
        var v = new DesiredState.Tls(s.optional("ca", PATH, Values::absolutePath), cert, key);
        s.finish();
        return v;
    }

    /** An etcd client URL: http or https, a host and a port, nothing else (the gateway's paths are fixed). */
    static URI endpoint(String s) {
        URI u;
        try {
            u = new URI(s);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(Values.quote(s) + " is not an etcd client URL such as https://10.0.0.1:2379");
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") || u.getHost() == null || u.getHost().isEmpty()) {
            throw new IllegalArgumentException(Values.quote(s) + " is not an etcd client URL such as https://10.0.0.1:2379");
        }
        if (u.getRawUserInfo() != null) {
            throw new IllegalArgumentException(Values.quote(s) + " carries credentials (user:password@): use tls.cert and tls.key");
        }
        if (u.getPort() < 0) throw new IllegalArgumentException(Values.quote(s) + " has no port (etcd's client port is usually 2379)");
        if ((u.getRawPath() != null && !u.getRawPath().isEmpty() && !u.getRawPath().equals("/")) || u.getRawQuery() != null || u.getRawFragment() != null) {
            throw new IllegalArgumentException(Values.quote(s) + " has a path, query or fragment: write scheme://host:port only");
        }
        return URI.create(scheme + "://" + u.getRawAuthority());
    }

    static String group(String s) {
        if (!GROUP.matcher(s).matches()) {
            throw new IllegalArgumentException(Values.quote(s) + " is not a group name (lowercase letters, digits, . _ -, at most 63, starting with a letter or digit)");
        }
        return s;
    }

    static String hostId(String s) {
        if (!HOST.matcher(s).matches()) {
            throw new IllegalArgumentException(Values.quote(s) + " is not a host id (letters, digits, . _ -, at most 64, starting with a letter or digit)");
        }
        return s;
    }
}
