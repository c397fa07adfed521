package t3.reconciler.controller.actuator.health;

import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import t3.reconciler.controller.actuator.HealthCheck.Result;

/**
 * What a person does to get into t3, against a running server: learn the session cookie's name, mint a credential,
 * exchange it for a cookie, and show the cookie is a session. Shared by the health check and the canary.
 */
final class Handshake {
    /** Mints a credential for the server under test. */
    interface Mint {
        String credential() throws Minter.Failure;
    }

    private Handshake() {}

    static Result run(T3Client http, URI base, List<String> endpoints, Mint mint) {
        String cookieName;
        try {
            Optional<String> announced = http.session(base, Map.of()).cookieName();
            if (announced.isEmpty()) return Result.fail("session", T3Client.SESSION_PATH + " does not announce auth.sessionCookieName");
            cookieName = announced.get();
        } catch (IOException e) {
            return Result.fail("session", "cannot read " + T3Client.SESSION_PATH + ": " + e.getMessage());
        }

        String credential;
        try {
            credential = mint.credential();
        } catch (Minter.Failure e) {
            return Result.fail("mint", e.getMessage());
        }

        // Endpoints in the operator's order; 404 means "not this build's path", anything else decides.
        List<String> notFound = new ArrayList<>();
        String cookie = null;
        String usedEndpoint = null;
        for (String endpoint : endpoints) {
            T3Client.Response r;
            try {
                r = http.postJson(base.resolve(endpoint), Map.of("credential", credential));
            } catch (IOException e) {
                return Result.fail("pairing", "POST " + endpoint + " failed: " + e.getMessage());
            }
            if (r.status() == 404) {
                notFound.add(endpoint);
                continue;
            }
            if (r.status() / 100 != 2) return Result.fail("pairing", "POST " + endpoint + " answered " + r.status() + " " + snippet(r.body()));
            Optional<String> c = T3Client.cookie(r.setCookies(), cookieName);
            if (c.isEmpty()) {
                return Result.fail("pairing", "POST " + endpoint + " answered " + r.status() + " without Set-Cookie " + cookieName
                        + " (cookies set: " + T3Client.cookieNames(r.setCookies()) + ")");
            }
            cookie = c.get();
            usedEndpoint = endpoint;
            break;
        }
        if (cookie == null) return Result.fail("pairing", "no pairing endpoint exists: every one answered 404 " + notFound);

        try {
            T3Client.Session s = http.session(base, Map.of("Cookie", cookieName + "=" + cookie));
            if (!s.authenticated()) return Result.fail("session", "cookie " + cookieName + " from " + usedEndpoint + " is not an authenticated session");
        } catch (IOException e) {
            return Result.fail("session", "cannot read " + T3Client.SESSION_PATH + " with the cookie: " + e.getMessage());
        }
        return Result.pass("paired through " + usedEndpoint + "; cookie " + cookieName + " is an authenticated session");
    }

    static String snippet(String body) {
        String s = body == null ? "" : body.strip().replaceAll("\\s+", " ");
        return s.length() > 200 ? s.substring(0, 200) + "…" : s;
    }
}
