package t3.reconciler.controller.actuator.npm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.testbed.RegistryBed;
import t3.reconciler.controller.testbed.RegistryBed.Flavor;
import t3.reconciler.model.Channel;
import t3.reconciler.model.Version;

/**
 * Channel resolution over HTTP against the bed's real verdaccio, and against hand-written registries for what
 * verdaccio never answers. npm here is a path that does not exist, so any fallback to {@code npm view} would fail
 * the test: every answer below came over HTTP.
 */
class RegistryClientIT {
    static final Path NO_NPM = Path.of("/nonexistent/npm");
    static final Version V24 = Version.parse("0.0.24");
    static final Version N1 = Version.parse("0.0.25-nightly.20260608.497");
    static final Version N2 = Version.parse("0.0.25-nightly.20260609.501");

    @TempDir static Path shared;
    static RegistryBed bed;

    @BeforeAll
    static void registry() throws Exception {
        bed = RegistryBed.start(shared.resolve("registry"));
        bed.publish(V24.toString(), Flavor.GOOD, RegistryBed.DEFAULT_SCHEMA, "latest")
                .publish(N1.toString(), Flavor.GOOD, RegistryBed.DEFAULT_SCHEMA, "nightly")
                .publish(N2.toString(), Flavor.GOOD, RegistryBed.DEFAULT_SCHEMA);
    }

    @AfterAll
    static void stop() {
        if (bed != null) bed.close();
    }

    static NpmPackages client(Optional<URI> registry, Map<String, String> env, String npmrc) throws IOException {
        Path rc = Files.createTempFile(shared, "npmrc", "");
        Files.writeString(rc, npmrc);
        return new NpmPackages(NO_NPM, registry, Duration.ofSeconds(10), "nobody", new NpmConfig.Sources(List.of(rc), env));
    }

    @Test
    void followsTheTagForwardAndBackOverHttpWithConditionalRequests() throws Exception {
        NpmPackages npm = client(Optional.of(bed.url()), Map.of(), "fund=false\n");
        assertEquals(V24, npm.resolve(RegistryBed.PACKAGE, Channel.LATEST));
        assertEquals(N1, npm.resolve(RegistryBed.PACKAGE, Channel.NIGHTLY));
        bed.tag(N2.toString(), "nightly");
        assertEquals(N2, npm.resolve(RegistryBed.PACKAGE, Channel.NIGHTLY), "a moved tag is seen at once, whatever was remembered");
        bed.tag(N1.toString(), "nightly");
        assertEquals(N1, npm.resolve(RegistryBed.PACKAGE, Channel.NIGHTLY));
    }

    @Test
    void theRegistryComesFromNpmrcWhenTheSpecNamesNone() throws Exception {
        NpmPackages npm = client(Optional.empty(), Map.of(), "registry=" + bed.url() + "\nfund=false\n");
        assertEquals(V24, npm.resolve(RegistryBed.PACKAGE, Channel.LATEST));
    }

    @Test
    void anUnchangedPackumentIsA304AndAChangedOneIsReadAgain() throws Exception {
        try (Recording r = Recording.serving(200, packument(V24.toString(), V24.toString()), "\"v1\"")) {
            NpmPackages npm = client(Optional.of(r.url()), Map.of(), "");
            assertEquals(V24, npm.resolve("t3", Channel.LATEST));
            assertEquals(V24, npm.resolve("t3", Channel.LATEST));
            assertEquals(List.of("", "\"v1\""), r.ifNoneMatch, "the second request was conditional");
            assertEquals(1, r.notModified, "and answered 304");
            r.answer(200, packument(N2.toString(), N2.toString()), "\"v2\"");
            assertEquals(N2, npm.resolve("t3", Channel.LATEST), "a new ETag brings the new answer");
        }
    }

    @Test
    void theTokenFromNpmrcIsSentToItsRegistryOnly() throws Exception {
        try (Recording r = Recording.serving(200, packument(V24.toString(), V24.toString()), null)) {
            String host = "//127.0.0.1:" + r.url().getPort() + "/";
            client(Optional.of(r.url()), Map.of("T", "tok"), host + ":_authToken=${T}\n").resolve("t3", Channel.LATEST);
            assertEquals(List.of("Bearer tok"), r.authorization);
            client(Optional.of(r.url()), Map.of(), "//127.0.0.1:1/:_authToken=other\n").resolve("t3", Channel.LATEST);
            assertEquals(List.of("Bearer tok", ""), r.authorization, "another registry's token is not sent");
        }
    }

    @Test
    void oddAnswersAreClearVerdictsNeverAWrongVersion() throws Exception {
        Map<String, String> lies = Map.of(
                "{\"dist-tags\":{\"latest\":\"0.0.24\"},\"versions\":{\"0.0.24\":{\"version\":\"0.0.1; rm -rf /\"}}}", "invalid version",
                "{\"dist-tags\":{\"latest\":\"../../etc\"},\"versions\":{}}", "invalid version",
                "{\"dist-tags\":{\"latest\":\"0.0.24\"},\"versions\":{\"0.0.24\":{\"version\":\"0.0.25\"}}}", "invalid version",
                "{\"dist-tags\":{\"latest\":\"0.0.24\"},\"versions\":{}}", "E404",
                "{\"dist-tags\":{\"nightly\":\"0.0.24\"},\"versions\":{\"0.0.24\":{\"version\":\"0.0.24\"}}}", "no dist-tag 'latest'",
                "{\"dist-tags\":{\"latest\":24},\"versions\":{}}", "not a string",
                "[1,2]", "not a JSON object",
                "<html>hello</html>", "not JSON");
        for (Map.Entry<String, String> lie : lies.entrySet()) {
            try (Recording r = Recording.serving(200, lie.getKey(), null)) {
                ActuatorException e = assertThrows(ActuatorException.class, () -> client(Optional.of(r.url()), Map.of(), "").resolve("t3", Channel.LATEST), lie.getKey());
                assertFalse(e.isTransient(), e.getMessage());
                assertTrue(e.getMessage().contains(lie.getValue()), lie.getKey() + " -> " + e.getMessage());
                assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
            }
        }
    }

    @Test
    void statusCodesReadAsNpmWould() throws Exception {
        try (Recording r = Recording.serving(404, "{\"error\":\"not found\"}", null)) {
            ActuatorException e = assertThrows(ActuatorException.class, () -> client(Optional.of(r.url()), Map.of(), "").resolve("t3", Channel.LATEST));
            assertFalse(e.isTransient());
            assertTrue(e.getMessage().contains("E404"), e.getMessage());
            r.answer(503, "busy", null);
            ActuatorException busy = assertThrows(ActuatorException.class, () -> client(Optional.of(r.url()), Map.of(), "").resolve("t3", Channel.LATEST));
            assertTrue(busy.isTransient(), busy.getMessage());
        }
    }

    @Test
    void aDeadRegistryIsTransientAndSaysEconnrefused() throws Exception {
        URI dead;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            dead = URI.create("http://127.0.0.1:" + s.getLocalPort() + "/");
        }
        ActuatorException e = assertThrows(ActuatorException.class, () -> client(Optional.of(dead), Map.of(), "").resolve("t3", Channel.LATEST));
        assertTrue(e.isTransient(), e.getMessage());
        assertTrue(e.getMessage().contains("ECONNREFUSED"), e.getMessage());
    }

    @Test
    void configBeyondTheParserFallsBackToNpmView() throws Exception {
        // npm does not exist here: the fallback is proven by npm's absence being what fails.
        ActuatorException e = assertThrows(ActuatorException.class,
                () -> client(Optional.of(bed.url()), Map.of(), "strict-ssl=false\n").resolve(RegistryBed.PACKAGE, Channel.LATEST));
        assertTrue(e.getMessage().contains(NO_NPM.toString()), e.getMessage());
    }

    static String packument(String tagged, String version) {
        return "{\"name\":\"t3\",\"dist-tags\":{\"latest\":\"" + tagged + "\"},\"versions\":{\"" + tagged + "\":{\"name\":\"t3\",\"version\":\"" + version + "\"}}}";
    }

    /** A registry on loopback answering one fixed document for /t3, recording the headers that matter. */
    static final class Recording implements AutoCloseable {
        final HttpServer http;
        final List<String> ifNoneMatch = new CopyOnWriteArrayList<>();
        final List<String> authorization = new CopyOnWriteArrayList<>();
        volatile int status;
        volatile String body;
        volatile String etag;
        volatile int notModified;

        private Recording(HttpServer http) { this.http = http; }

        static Recording serving(int status, String body, String etag) throws IOException {
            HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
            Recording r = new Recording(s);
            r.answer(status, body, etag);
            s.createContext("/", ex -> {
                String inm = ex.getRequestHeaders().getFirst("If-None-Match");
                r.ifNoneMatch.add(inm == null ? "" : inm);
                String auth = ex.getRequestHeaders().getFirst("Authorization");
                r.authorization.add(auth == null ? "" : auth);
                if (r.etag != null) ex.getResponseHeaders().set("ETag", r.etag);
                if (r.etag != null && r.etag.equals(inm)) {
                    r.notModified++;
                    ex.sendResponseHeaders(304, -1);
                    ex.close();
                    return;
                }
                byte[] b = r.body.getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(r.status, b.length);
                ex.getResponseBody().write(b);
                ex.close();
            });
            s.start();
            return r;
        }

        void answer(int status, String body, String etag) {
            this.status = status;
            this.body = body;
            this.etag = etag;
        }

        URI url() { return URI.create("http://127.0.0.1:" + http.getAddress().getPort() + "/"); }

        @Override
        public void close() { http.stop(0); }
    }
}
