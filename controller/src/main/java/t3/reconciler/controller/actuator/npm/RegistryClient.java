package t3.reconciler.controller.actuator.npm;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.model.Version;

/**
 * Reads a dist-tag from the registry over HTTP, as {@code npm view pkg@tag version} would, in one request: the
 * abbreviated packument ({@code Accept: application/vnd.npm.install-v1+json}, what npm itself fetches to install) with
 * {@code If-None-Match}, so an unchanged packument costs a 304. The remembered packument is only ever used after the
 * registry said it is current: an outage is an error, never an old answer.
 *
 * <p>The answer is checked as npm would not: the tag must name a key of {@code versions}, that entry's {@code version}
 * must equal the key, and both must parse as a {@link Version}; anything else is a verdict naming what was wrong.
 * Error messages carry npm's codes ({@code ECONNREFUSED}, {@code ETIMEDOUT}, {@code E404}...) so that reasons read
 * the same whichever way the tag was read.
 */
final class RegistryClient {
    static final String ACCEPT = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";
    /** Far above any real abbreviated packument; bounds what a hostile registry can make us hold. */
    private static final int MAX_BODY = 64 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Cached(String etag, JsonNode packument) {}

    private final Map<URI, Cached> cache = new ConcurrentHashMap<>();
    private final Map<Path, SSLContext> contexts = new ConcurrentHashMap<>();

    /** An answer this client does not follow (a redirect): the caller asks npm instead. */
    static final class BeyondUs extends Exception {
        BeyondUs(String message) { super(message); }
    }

    /**
     * What {@code tag} of {@code pkg} points at on {@code registry}; {@code timeout} bounds the connect and each read.
     * {@link HttpURLConnection}, not {@code java.net.http}: building an {@code HttpClient} initialises the default TLS
     * context even for a plain-http registry (~0.35 s of a cold {@code run --once}, measured), and this is one GET.
     */
    Version resolve(NpmConfig config, URI registry, PackageName pkg, String tag, Duration timeout) throws ActuatorException, BeyondUs {
        URI url = registry.resolve(URLEncoder.encode(pkg.value(), StandardCharsets.UTF_8).replace("%40", "@"));
        String what = "GET " + url + " (" + pkg + "@" + tag + ")";
        Cached known = cache.get(url);
        HttpURLConnection http;
        int status;
        try {
            Proxy proxy = config.proxyFor(url).map(p -> new Proxy(Proxy.Type.HTTP, new InetSocketAddress(p.getHost(), p.getPort() < 0 ? 80 : p.getPort())))
                    .orElse(Proxy.NO_PROXY);
            http = (HttpURLConnection) url.toURL().openConnection(proxy);
            if (http instanceof HttpsURLConnection https && config.cafile().isPresent()) https.setSSLSocketFactory(trusting(config.cafile().get()).getSocketFactory());
            http.setInstanceFollowRedirects(false); // a redirect could carry the token elsewhere: npm is asked instead
            http.setUseCaches(false);
            http.setConnectTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            http.setReadTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            http.setRequestProperty("Accept", ACCEPT);
            config.authorizationFor(registry).ifPresent(a -> http.setRequestProperty("Authorization", a));
            if (known != null) http.setRequestProperty("If-None-Match", known.etag());
            status = http.getResponseCode();
        } catch (SocketTimeoutException e) {
            throw ActuatorException.transientFault(what + " failed (ETIMEDOUT): no answer within " + timeout.toMillis() + " ms (timed out)", e);
        } catch (ConnectException e) {
            throw ActuatorException.transientFault(what + " failed (ECONNREFUSED): " + describe(e), e);
        } catch (UnknownHostException e) {
            throw ActuatorException.transientFault(what + " failed (ENOTFOUND): " + describe(e), e);
        } catch (IOException e) {
            throw ActuatorException.transientFault(what + " failed (ECONNRESET): " + describe(e), e);
        }
        JsonNode packument;
        try (InputStream body = status >= 400 ? http.getErrorStream() : http.getInputStream()) {
            if (status == 304 && known != null) {
                packument = known.packument();
            } else if (status == 200) {
                byte[] bytes = body.readNBytes(MAX_BODY + 1);
                if (bytes.length > MAX_BODY) throw ActuatorException.verdict(what + ": the packument is larger than " + (MAX_BODY >> 20) + " MB");
                try {
                    packument = JSON.readTree(bytes);
                } catch (JsonProcessingException e) {
                    throw ActuatorException.verdict(what + ": the registry answered something that is not JSON: " + NpmPackages.oneLine(new String(bytes, 0, Math.min(bytes.length, 300), StandardCharsets.UTF_8)));
                }
                String etag = http.getHeaderField("ETag");
                if (etag != null && packument != null && packument.isObject()) cache.put(url, new Cached(etag, packument));
                else cache.remove(url);
            } else if (status >= 300 && status < 400) {
                throw new BeyondUs(what + " answered a redirect (HTTP " + status + ")");
            } else {
                cache.remove(url);
                // npm's codes: E404 and other 4xx are answers about the package; 5xx, 408 and 429 are the registry's trouble.
                String code = "E" + status;
                boolean transientFault = status >= 500 || status == 408 || status == 429;
                String text = body == null ? "" : NpmPackages.oneLine(new String(body.readNBytes(400), StandardCharsets.UTF_8));
                throw new ActuatorException(what + " failed (" + code + "): HTTP " + status + (text.isEmpty() ? "" : ": " + text), transientFault);
            }
        } catch (SocketTimeoutException e) {
            throw ActuatorException.transientFault(what + " failed (ETIMEDOUT) while reading the answer (timed out): " + describe(e), e);
        } catch (IOException e) {
            throw ActuatorException.transientFault(what + " failed (ECONNRESET) while reading the answer: " + describe(e), e);
        }
        return versionOf(what, packument, pkg, tag);
    }

    /** The tag's version, checked three ways (tag, key, the entry's own version field). */
    static Version versionOf(String what, JsonNode packument, PackageName pkg, String tag) throws ActuatorException {
        if (packument == null || !packument.isObject()) throw ActuatorException.verdict(what + ": the packument is not a JSON object");
        JsonNode tags = packument.get("dist-tags");
        if (tags == null || !tags.isObject()) throw ActuatorException.verdict(what + ": the packument has no dist-tags");
        JsonNode named = tags.get(tag);
        if (named == null) throw ActuatorException.verdict(what + " failed (E404): no dist-tag '" + tag + "' for " + pkg);
        if (!named.isTextual()) throw ActuatorException.verdict(what + ": dist-tag '" + tag + "' is not a string: " + NpmPackages.oneLine(named.toString()));
        Version key = parse(what, "the dist-tag", named.asText(), pkg, tag);
        JsonNode entry = packument.path("versions").get(named.asText());
        if (entry == null || !entry.isObject()) {
            throw ActuatorException.verdict(what + " failed (E404): dist-tag '" + tag + "' names " + key + ", which is not among the packument's versions");
        }
        JsonNode field = entry.get("version");
        if (field == null || !field.isTextual()) throw ActuatorException.verdict(what + ": versions[" + key + "] has no version field");
        Version v = parse(what, "versions[" + key + "].version", field.asText(), pkg, tag);
        if (!v.equals(key) || !field.asText().equals(named.asText())) {
            throw ActuatorException.verdict(what + ": the registry answered an invalid version for " + pkg + "@" + tag + ": versions[" + key + "] says it is " + v);
        }
        return v;
    }

    private static Version parse(String what, String where, String text, PackageName pkg, String tag) throws ActuatorException {
        try {
            return Version.parse(text);
        } catch (IllegalArgumentException e) {
            throw ActuatorException.verdict("registry answered an invalid version for " + pkg + "@" + tag + " (" + where + ", " + what + "): " + NpmPackages.oneLine(e.getMessage()));
        }
    }

    /** npm's {@code cafile}: these CAs instead of the default ones, as npm does. */
    private SSLContext trusting(Path cafile) throws ActuatorException {
        SSLContext known = contexts.get(cafile);
        if (known != null) return known;
        try (InputStream in = Files.newInputStream(cafile)) {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            int i = 0;
            for (Certificate cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) ks.setCertificateEntry("ca" + i++, cert);
            if (i == 0) throw ActuatorException.verdict("npm's cafile " + cafile + " holds no certificate");
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            contexts.put(cafile, ctx);
            return ctx;
        } catch (IOException | GeneralSecurityException e) {
            throw ActuatorException.verdict("cannot read npm's cafile " + cafile + ": " + e.getMessage());
        }
    }

    private static String describe(Exception e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) m = e.getCause() != null && e.getCause().getMessage() != null ? e.getCause().getMessage() : e.getClass().getSimpleName();
        return m;
    }
}
