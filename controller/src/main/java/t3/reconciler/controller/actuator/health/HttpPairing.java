package t3.reconciler.controller.actuator.health;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.HealthCheck.Result;
import t3.reconciler.controller.actuator.Pairing;
import t3.reconciler.controller.actuator.proc.Account;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.User;

/**
 * {@link Pairing}: the canary's proof that a restarted user can still get in. Directly against their server (found by
 * its listening socket, the credential minted as them), or, when a dispatch fronts the servers, the way a browser
 * arriving through it does.
 */
public final class HttpPairing implements Pairing {
    static final String USER_HEADER = "X-authentik-username";
    static final String DEFAULT_COOKIE = "t3_session";

    @Override
    public Result verify(User user, long mainPid, Path baseDir, Path t3Binary, DesiredState spec) throws ActuatorException {
        int attempts = Math.max(1, spec.canary().verifyAttempts());
        T3Client http = new T3Client(spec.healthCheck().requestTimeout());
        // The pauses between attempts start short and grow to verifyInterval: a quick server is verified at once.
        Backoff backoff = new Backoff(spec.canary().verifyInterval(), spec.healthCheck().requestTimeout());
        if (spec.canary().dispatch().isEmpty()) {
            // A server just restarted may take seconds to listen (the real t3: about 4.5 s); that wait is not an attempt.
            Optional<Result> notUp = awaitListening(http, user, mainPid, spec, backoff);
            if (notUp.isPresent()) return notUp.get();
        }
        Result last = Result.fail("start", "not attempted");
        for (int i = 1; i <= attempts; i++) {
            last = spec.canary().dispatch().isPresent()
                    ? viaDispatch(http, spec.canary().dispatch().get(), user)
                    : direct(http, user, mainPid, baseDir, t3Binary, spec);
            if (last.passed()) return Result.pass(last.detail() + " (attempt " + i + "/" + attempts + ")");
            if (i < attempts) pause(mainPid, backoff.nextPause(spec.canary().verifyInterval()));
        }
        return Result.fail(last.gate(), last.detail() + " (after " + attempts + " attempts)");
    }

    /**
     * Empty once a socket of {@code mainPid} answers t3's session API; a failed start when the process is gone or
     * healthCheck.startTimeout (the bound on any t3's start) runs out first. Every request has its own short timeout:
     * one sent while the real server starts may never be answered.
     */
    private static Optional<Result> awaitListening(T3Client http, User user, long mainPid, DesiredState spec, Backoff backoff) throws ActuatorException {
        if (mainPid <= 0) return Optional.of(Result.fail("start", user.name() + "'s unit has no main process"));
        Instant deadline = Instant.now().plus(spec.healthCheck().startTimeout());
        String last = "no listening socket";
        while (true) {
            if (!ProcessHandle.of(mainPid).map(ProcessHandle::isAlive).orElse(false)) {
                return Optional.of(Result.fail("start", user.name() + "'s server (pid " + mainPid + ") exited before answering " + T3Client.SESSION_PATH));
            }
            Duration left = Duration.between(Instant.now(), deadline);
            if (left.isNegative() || left.isZero()) {
                return Optional.of(Result.fail("start", user.name() + "'s server (pid " + mainPid + ") did not answer " + T3Client.SESSION_PATH
                        + " within " + spec.healthCheck().startTimeout().toSeconds() + "s (last: " + last + ")"));
            }
            try {
                List<ListeningSockets.Endpoint> endpoints = ListeningSockets.of(mainPid);
                if (!endpoints.isEmpty()) {
                    Duration timeout = backoff.nextRequestTimeout(left);
                    for (ListeningSockets.Endpoint e : endpoints) {
                        try {
                            http.session(e.base(), Map.of(), timeout);
                            return Optional.empty();
                        } catch (IOException ex) {
                            last = "port " + e.port() + ": " + ex.getMessage();
                        }
                    }
                }
            } catch (IOException e) {
                last = "cannot read its sockets: " + e.getMessage();
            }
            pause(mainPid, backoff.nextPause(Duration.between(Instant.now(), deadline)));
        }
    }

    private static Result direct(T3Client http, User user, long mainPid, Path baseDir, Path binary, DesiredState spec) throws ActuatorException {
        if (mainPid <= 0) return Result.fail("start", user.name() + "'s unit has no main process");
        List<ListeningSockets.Endpoint> endpoints;
        try {
            endpoints = ListeningSockets.of(mainPid);
        } catch (IOException e) {
            return Result.fail("start", "cannot read the sockets of pid " + mainPid + ": " + e.getMessage());
        }
        // Several listeners are possible (an inspector, a helper): the server is the one that speaks t3's session API.
        Optional<URI> base = endpoints.stream().map(ListeningSockets.Endpoint::base).filter(u -> speaksT3(http, u)).findFirst();
        if (base.isEmpty()) {
            return Result.fail("start", "pid " + mainPid + " listens on " + endpoints.stream().map(e -> e.port()).toList()
                    + " but none answers " + T3Client.SESSION_PATH);
        }
        // Looked up by the name in the desired state, never from a file's owner: a path the user controls (their
        // ~/.t3, a link in it) must not choose whom root becomes.
        Account owner;
        try {
            owner = Account.unprivileged(user.name());
        } catch (IOException e) {
            throw new ActuatorException("cannot mint a credential as " + user.name() + ": " + e.getMessage(), false, e);
        }
        Result r = Handshake.run(http, base.get(), spec.healthCheck().pairingEndpoints(),
                () -> Minter.mint(binary, baseDir, owner, Optional.empty(), Account.binDirOf(spec.install().npm()), spec.healthCheck().startTimeout()));
        return r.passed() ? Result.pass(user.name() + "'s server at " + base.get() + ": " + r.detail()) : r;
    }

    private static boolean speaksT3(T3Client http, URI base) {
        try {
            http.session(base, Map.of());
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** A browser's first visit through the dispatch: a document request carrying the proxy's identity header. */
    private static Result viaDispatch(T3Client http, URI dispatch, User user) {
        Map<String, String> identity = Map.of(USER_HEADER, user.login());
        String cookieName = DEFAULT_COOKIE;
        try {
            cookieName = http.session(dispatch, identity).cookieName().orElse(DEFAULT_COOKIE);
        } catch (IOException e) {
            // a dispatch need not pass the session API through before pairing; web mode's name is the default
        }
        T3Client.Response r;
        try {
            r = http.get(dispatch.resolve("/"), Map.of(USER_HEADER, user.login(), "Sec-Fetch-Dest", "document"));
        } catch (IOException e) {
            return Result.fail("pairing", "GET / through the dispatch failed: " + e.getMessage());
        }
        Optional<String> cookie = T3Client.cookie(r.setCookies(), cookieName);
        if (cookie.isEmpty()) {
            return Result.fail("pairing", "dispatch answered " + r.status() + " for " + user.login() + " without Set-Cookie " + cookieName
                    + " (cookies set: " + T3Client.cookieNames(r.setCookies()) + ")");
        }
        return Result.pass("dispatch paired " + user.login() + " (cookie " + cookieName + ")");
    }

    /** Waiting on the main process's exit doubles as the pause: a server that dies is noticed at once. */
    private static void pause(long mainPid, Duration pause) throws ActuatorException {
        Optional<ProcessHandle> p = mainPid > 0 ? ProcessHandle.of(mainPid) : Optional.empty();
        try {
            if (p.isPresent()) p.get().onExit().get(Math.max(1, pause.toMillis()), TimeUnit.MILLISECONDS);
            else Thread.sleep(pause.toMillis()); // through a dispatch: no process of ours to wait on
        } catch (TimeoutException | ExecutionException e) {
            // still running
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ActuatorException("interrupted between pairing attempts", true, e);
        }
    }
}
