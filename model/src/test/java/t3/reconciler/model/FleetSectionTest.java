package t3.reconciler.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class FleetSectionTest {
    private static final Path FILE = Path.of("/etc/t3-reconciler/desired.yaml");

    @Test
    void withoutAFleetSectionTheHostActsAlone() throws Exception {
        assertEquals(Optional.empty(), parse("users: [alice]\n").fleet());
        assertEquals(Optional.empty(), parse("users: [alice]\nfleet:\n").fleet());
    }

    @Test
    void onlyEndpointsAreRequiredAndEverythingElseHasADefault() throws Exception {
        DesiredState.Fleet f = parse("users: [alice]\nfleet:\n  endpoints: [http://127.0.0.1:2379]\n").fleet().orElseThrow();
        assertEquals(new DesiredState.Fleet(List.of(URI.create("http://127.0.0.1:2379")), Optional.empty(), "default", Optional.empty(),
                1, List.of(), Duration.ofHours(1), Duration.ofSeconds(30)), f);
    }

    @Test
    void everyFieldIsRead() throws Exception {
        DesiredState.Fleet f = parse("""
                users: [alice]
                fleet:
                  endpoints: ['https://10.0.0.1:2379', 'HTTPS://etcd-2.example.com:2379/']
                  tls: {ca: /etc/t3/ca.pem, cert: /etc/t3/client.pem, key: /etc/t3/client.key}
                  group: eu-west.prod
                  hostId: vm-07
                  maxConcurrentHosts: 5
                  canaryHosts: [vm-01, vm-02]
                  soak: 2h
                  leaseTtl: 45s
                """).fleet().orElseThrow();
        assertEquals(List.of(URI.create("https://10.0.0.1:2379"), URI.create("https://etcd-2.example.com:2379")), f.endpoints());
        assertEquals(Optional.of(new DesiredState.Tls(Optional.of(Path.of("/etc/t3/ca.pem")), Optional.of(Path.of("/etc/t3/client.pem")),
                Optional.of(Path.of("/etc/t3/client.key")))), f.tls());
        assertEquals("eu-west.prod", f.group());
        assertEquals(Optional.of("vm-07"), f.hostId());
        assertEquals(5, f.maxConcurrentHosts());
        assertEquals(List.of("vm-01", "vm-02"), f.canaryHosts());
        assertEquals(Duration.ofHours(2), f.soak());
        assertEquals(Duration.ofSeconds(45), f.leaseTtl());
    }

    @Test
    void eachBadValueIsReportedAtItsLineAndColumn() {
        assertEquals(List.of(
                "/etc/t3-reconciler/desired.yaml:3:15: fleet.endpoints[0]: 'ftp://x:1' is not an etcd client URL such as https://10.0.0.1:2379",
                "/etc/t3-reconciler/desired.yaml:3:26: fleet.endpoints[1]: 'http://u:p@h:2379' carries credentials (user:password@): use tls.cert and tls.key",
                "/etc/t3-reconciler/desired.yaml:3:47: fleet.endpoints[2]: 'http://h' has no port (etcd's client port is usually 2379)",
                "/etc/t3-reconciler/desired.yaml:3:59: fleet.endpoints[3]: 'http://h:2379/v3' has a path, query or fragment: write scheme://host:port only",
                "/etc/t3-reconciler/desired.yaml:4:10: fleet.group: 'Prod/1' is not a group name (lowercase letters, digits, . _ -, at most 63, starting with a letter or digit)",
                "/etc/t3-reconciler/desired.yaml:5:11: fleet.hostId: '-vm' is not a host id (letters, digits, . _ -, at most 64, starting with a letter or digit)",
                "/etc/t3-reconciler/desired.yaml:6:23: fleet.maxConcurrentHosts: must be from 1 to 1000 (got 0)",
                "/etc/t3-reconciler/desired.yaml:7:20: fleet.canaryHosts[1]: 'a' is listed twice",
                "/etc/t3-reconciler/desired.yaml:8:9: fleet.soak: 'soon' is not a duration (use 90s, 15m, 2h, 3d or ISO-8601 such as PT15M)",
                "/etc/t3-reconciler/desired.yaml:9:13: fleet.leaseTtl: must be whole seconds from 2s to 1h (got 1s)",
                "/etc/t3-reconciler/desired.yaml:10:3: fleet.tsl: unknown key (did you mean 'tls'?)"),
                problems("""
                        users: [alice]
                        fleet:
                          endpoints: [ftp://x:1, 'http://u:p@h:2379', 'http://h', 'http://h:2379/v3']
                          group: Prod/1
                          hostId: -vm
                          maxConcurrentHosts: 0
                          canaryHosts: [a, a]
                          soak: soon
                          leaseTtl: 1s
                          tsl: {}
                        """));
    }

    @Test
    void endpointsAreRequiredAndMustAgreeWithTls() {
        assertEquals(List.of("/etc/t3-reconciler/desired.yaml:3:3: fleet.endpoints: missing: list the etcd client URLs, e.g. [https://10.0.0.1:2379]"),
                problems("users: [alice]\nfleet:\n  group: g\n"));
        assertEquals(List.of("/etc/t3-reconciler/desired.yaml:2:20: fleet.endpoints: must list at least one etcd client URL"),
                problems("users: [alice]\nfleet: {endpoints: []}\n"));
        assertEquals(List.of("/etc/t3-reconciler/desired.yaml:2:20: fleet.endpoints: mixes http and https: one cluster speaks one of them"),
                problems("users: [alice]\nfleet: {endpoints: ['http://a:2379', 'https://b:2379']}\n"));
        assertEquals(List.of("/etc/t3-reconciler/desired.yaml:4:8: fleet.tls: is set but the endpoints use http: write them as https:// URLs"),
                problems("users: [alice]\nfleet:\n  endpoints: ['http://a:2379']\n  tls: {ca: /ca.pem}\n"));
        assertEquals(List.of("/etc/t3-reconciler/desired.yaml:4:8: fleet.tls.key: missing: a client certificate needs both cert and key"),
                problems("users: [alice]\nfleet:\n  endpoints: ['https://a:2379']\n  tls: {cert: /c.pem}\n"));
        assertEquals(List.of("/etc/t3-reconciler/desired.yaml:4:13: fleet.tls.ca: 'ca.pem' is not an absolute path"),
                problems("users: [alice]\nfleet:\n  endpoints: ['https://a:2379']\n  tls: {ca: ca.pem}\n"));
    }

    private static DesiredState parse(String yaml) throws InvalidDesiredStateException {
        return DesiredStateLoader.parse(yaml, FILE);
    }

    private static List<String> problems(String yaml) {
        return assertThrows(InvalidDesiredStateException.class, () -> parse(yaml)).problems().stream().map(Problem::toString).toList();
    }
}
