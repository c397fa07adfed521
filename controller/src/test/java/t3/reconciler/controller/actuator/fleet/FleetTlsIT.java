package t3.reconciler.controller.actuator.fleet;

import t3.reconciler.model.fleet.EtcdHealth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.testbed.EtcdCluster;
import t3.reconciler.model.DesiredState;

/** fleet.tls against a real etcd run with --client-cert-auth; certificates made by openssl for the test. */
class FleetTlsIT {
    @TempDir
    Path dir;

    @Test
    void aClientCertificateSignedByTheCaGetsInAndNoCertificateDoesNot() throws Exception {
        Path ca = dir.resolve("ca.pem"), caKey = dir.resolve("ca.key");
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", caKey.toString(),
                "-out", ca.toString(), "-days", "1", "-subj", "/CN=t3rf-test-ca");
        Path serverCert = sign("server", ca, caKey, "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n");
        Path clientCert = sign("client", ca, caKey, "extendedKeyUsage=clientAuth\n");
        Path clientKey = dir.resolve("client.key");
        assertTrue(Files.readString(clientKey).contains("BEGIN PRIVATE KEY"), "openssl wrote PKCS#8");

        try (EtcdCluster etcd = EtcdCluster.startTls(dir.resolve("etcd"), serverCert, dir.resolve("server.key"), ca)) {
            var withCert = new DesiredState.Tls(Optional.of(ca), Optional.of(clientCert), Optional.of(clientKey));
            try (Fleet f = fleet(etcd, Optional.of(withCert))) {
                assertEquals(EtcdHealth.QUORUM, f.facts().etcd(), f.facts().etcdDetail());
                assertEquals(new SlotResult.Taken(false), f.lock());
            }
            try (Fleet f = fleet(etcd, Optional.of(new DesiredState.Tls(Optional.of(ca), Optional.empty(), Optional.empty())))) {
                assertTrue(f.facts().etcd() != EtcdHealth.QUORUM, "no client certificate, no access");
                assertThrows(EtcdException.class, f::lock);
            }
        }

        Path sec1 = dir.resolve("client-sec1.key");
        openssl("ec", "-in", clientKey.toString(), "-out", sec1.toString());
        EtcdException e = assertThrows(EtcdException.class,
                () -> EtcdTls.context(new DesiredState.Tls(Optional.of(ca), Optional.of(clientCert), Optional.of(sec1))));
        assertTrue(e.getMessage().contains("EC PRIVATE KEY") && e.getMessage().contains("openssl pkcs8 -topk8 -nocrypt"), e.getMessage());
    }

    private Fleet fleet(EtcdCluster etcd, Optional<DesiredState.Tls> tls) throws EtcdException {
        var spec = new DesiredState.Fleet(etcd.endpoints(), tls, "tls", Optional.of("a"), 1, List.of(), Duration.ofHours(1), Duration.ofSeconds(30));
        return new Fleet(spec, "a", Clock.systemUTC(), Hosts.LOG);
    }

    private Path sign(String name, Path ca, Path caKey, String extensions) throws Exception {
        Path key = dir.resolve(name + ".key"), csr = dir.resolve(name + ".csr"), cert = dir.resolve(name + ".pem"), ext = dir.resolve(name + ".ext");
        Files.writeString(ext, extensions);
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key.toString(), "-out", csr.toString(),
                "-subj", "/CN=t3rf-" + name);
        openssl("x509", "-req", "-in", csr.toString(), "-CA", ca.toString(), "-CAkey", caKey.toString(), "-CAcreateserial",
                "-out", cert.toString(), "-days", "1", "-extfile", ext.toString());
        return cert;
    }

    private void openssl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new java.util.ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + "\n" + out);
    }
}
