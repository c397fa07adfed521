package t3.reconciler.controller.actuator.npm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How npm's configuration files and variables are read for the HTTP registry client, and what sends us to npm view. */
class NpmConfigTest {
    @TempDir Path dir;

    NpmConfig.Loaded load(Map<String, String> env, String... files) throws Exception {
        List<Path> paths = new java.util.ArrayList<>();
        for (int i = 0; i < files.length; i++) {
            Path p = dir.resolve("npmrc" + i);
            Files.writeString(p, files[i]);
            paths.add(p);
        }
        paths.add(dir.resolve("missing-npmrc")); // skipped, as npm skips it
        return NpmConfig.load(new NpmConfig.Sources(paths, env));
    }

    NpmConfig parsed(Map<String, String> env, String... files) throws Exception {
        return assertInstanceOf(NpmConfig.Parsed.class, load(env, files)).config();
    }

    @Test
    void laterFilesWinAndScopesAndTokensAreRead() throws Exception {
        NpmConfig c = parsed(Map.of("TOKEN", "s3cret"),
                "; global\nregistry=https://a.example/\nfund=false\ncafile=/etc/ssl/certs/ca-certificates.crt\n",
                "registry = \"http://127.0.0.1:4873\"\n@corp:registry=https://npm.corp.example/npm/\n"
                        + "//npm.corp.example/npm/:_authToken=${TOKEN}\n//127.0.0.1:4873/:_auth=dTpw\n");
        assertEquals(URI.create("http://127.0.0.1:4873/"), c.registry());
        assertEquals(URI.create("https://npm.corp.example/npm/"), c.registryFor(new PackageName("@corp/t3")));
        assertEquals(URI.create("http://127.0.0.1:4873/"), c.registryFor(new PackageName("@other/t3")));
        assertEquals(Optional.of("Bearer s3cret"), c.authorizationFor(URI.create("https://npm.corp.example/npm/")));
        assertEquals(Optional.of("Basic dTpw"), c.authorizationFor(URI.create("http://127.0.0.1:4873/")));
        assertEquals(Optional.empty(), c.authorizationFor(URI.create("http://127.0.0.1:4874/")), "another port is another registry");
        assertEquals(Optional.empty(), c.authorizationFor(URI.create("https://npm.corp.example.evil/npm/")), "never another host's token");
    }

    @Test
    void aTokenForAParentPathCountsAsNpmWalksThePathUp() throws Exception {
        NpmConfig c = parsed(Map.of(), "//reg.example/:_authToken=t\n");
        assertEquals(Optional.of("Bearer t"), c.authorizationFor(URI.create("https://reg.example/deep/npm/")));
    }

    @Test
    void usernameAndPasswordBecomeBasicAuth() throws Exception {
        NpmConfig c = parsed(Map.of(), "//reg.example/:username=u\n//reg.example/:_password=cA==\n"); // base64("p")
        assertEquals(Optional.of("Basic dTpw"), c.authorizationFor(URI.create("https://reg.example/")));
    }

    @Test
    void environmentVariablesOverrideFilesAndProxiesHonourNoProxy() throws Exception {
        NpmConfig c = parsed(Map.of("npm_config_registry", "http://env.example/", "HTTPS_PROXY", "http://proxy.example:3128",
                "NO_PROXY", "localhost,.internal.example"), "registry=http://file.example/\n");
        assertEquals(URI.create("http://env.example/"), c.registry());
        assertEquals(Optional.of(URI.create("http://proxy.example:3128")), c.proxyFor(URI.create("https://registry.npmjs.org/t3")));
        assertEquals(Optional.empty(), c.proxyFor(URI.create("http://env.example/t3")), "no http proxy set");
        assertEquals(Optional.empty(), c.proxyFor(URI.create("https://a.internal.example/t3")));
        assertEquals(Optional.empty(), c.proxyFor(URI.create("https://localhost/t3")));
    }

    @Test
    void whatTheClientCannotHonourSendsUsToNpmViewNamingFileLineAndKey() throws Exception {
        for (String line : List.of("strict-ssl=false", "//reg.example/:certfile=/c.pem", "ca=-----BEGIN", "offline=true",
                "[section]", "https-proxy=http://user:pw@proxy:3128", "some-new-key=1", "registry=${UNSET_VAR}")) {
            NpmConfig.Loaded l = load(Map.of(), "fund=false\n" + line + "\n");
            NpmConfig.Unsupported u = assertInstanceOf(NpmConfig.Unsupported.class, l, line);
            assertTrue(u.reason().contains(dir.resolve("npmrc0") + ":2") || u.reason().startsWith("proxy:"), line + " -> " + u.reason());
        }
    }

    @Test
    void defaultsToThePublicRegistry() throws Exception {
        NpmConfig c = parsed(Map.of());
        assertEquals(NpmConfig.DEFAULT_REGISTRY, c.registry());
    }
}
