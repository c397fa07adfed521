package t3.reconciler.controller.actuator.fleet;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import t3.reconciler.model.DesiredState;

/**
 * The SSLContext for {@code fleet.tls}: the servers are checked against {@code ca} (else the JDK's trust store), and
 * {@code cert}/{@code key} are presented for etcd's {@code --client-cert-auth}. PEM as etcd's own tooling writes it;
 * the key must be PKCS#8 ({@code BEGIN PRIVATE KEY}), which the JDK reads without a third-party parser.
 */
public final class EtcdTls {
    private EtcdTls() {}

    private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

    public static SSLContext context(DesiredState.Tls tls) throws EtcdException {
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            if (tls.ca().isPresent()) {
                KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
                trust.load(null, null);
                int i = 0;
                for (Certificate c : certificates(tls.ca().get())) trust.setCertificateEntry("ca" + i++, c);
                tmf.init(trust);
            } else {
                tmf.init((KeyStore) null);
            }
            KeyManagerFactory kmf = null;
            if (tls.cert().isPresent() && tls.key().isPresent()) {
                KeyStore keys = KeyStore.getInstance(KeyStore.getDefaultType());
                keys.load(null, null);
                char[] none = new char[0];
                keys.setKeyEntry("client", privateKey(tls.key().get()), none, certificates(tls.cert().get()).toArray(Certificate[]::new));
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(keys, none);
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new EtcdException("fleet.tls: " + e.getMessage(), e);
        }
    }

    private static List<Certificate> certificates(Path file) throws IOException, GeneralSecurityException {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        List<Certificate> out = new ArrayList<>(cf.generateCertificates(Files.newInputStream(file)));
        if (out.isEmpty()) throw new GeneralSecurityException(file + " holds no PEM certificate");
        return out;
    }

    private static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
        String text = Files.readString(file);
        Matcher m = PEM.matcher(text);
        if (!m.find()) throw new GeneralSecurityException(file + " holds no PEM private key");
        if (!m.group(1).equals("PRIVATE KEY")) {
            throw new GeneralSecurityException(file + " is a " + m.group(1) + "; convert it to PKCS#8: openssl pkcs8 -topk8 -nocrypt -in "
                    + file + " -out " + file + ".pk8");
        }
        byte[] der = Base64.getMimeDecoder().decode(m.group(2));
        for (String alg : List.of("RSA", "EC", "Ed25519")) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // the PKCS#8 wrapper names the algorithm; trying the three etcd deployments use is simpler than parsing it
            }
        }
        throw new GeneralSecurityException(file + " is not an RSA, EC or Ed25519 PKCS#8 key");
    }

}
