package t3.reconciler.controller.cli;

import java.io.IOException;
import java.time.Clock;
import t3.reconciler.controller.crash.CrashPoints;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.loop.DaemonLock;
import t3.reconciler.controller.loop.LogAlerter;
import t3.reconciler.controller.loop.Reconciler;
import t3.reconciler.model.DesiredState;

/**
 * Has a request the CLI recorded ({@code unfreeze}, {@code unblock}) carried out by the controller, never by the CLI:
 * the running daemon after a SIGHUP, or, when none runs, the reconciler in this process holding the daemon's lock,
 * limited to the requests ({@link Reconciler#applyRequests}).
 */
final class OperatorRequests {
    private OperatorRequests() {}

    /** SIGHUPs the running daemon, if one runs. @return for the operator: that it carries the request out; empty if none runs */
    static java.util.Optional<String> signalDaemon(DesiredState s) throws IOException {
        var daemon = DaemonClient.running(s);
        if (daemon.isEmpty()) return java.util.Optional.empty();
        DaemonClient.hup(s, daemon.get());
        return java.util.Optional.of("the daemon (pid " + daemon.get() + ") carries it out");
    }

    /** @return for the operator: who carries it out */
    static String carryOut(DesiredState s) throws IOException {
        var signalled = signalDaemon(s);
        if (signalled.isPresent()) return signalled.get();
        DaemonLock lock;
        try {
            lock = DaemonLock.acquire(s);
        } catch (IllegalStateException held) {
            return "recorded; the controller holding " + s.controller().stateDb().getFileName() + ".lock carries it out on its next pass";
        }
        Clock clock = Clock.systemUTC();
        Log log = new Log(System.err, Log.Format.HUMAN, clock);
        try (lock; Wiring w = Wiring.open(s); LogAlerter alerter = new LogAlerter(log, s.alerts().webhook())) {
            int steps = new Reconciler(w.io, w.store, clock, log, alerter, CrashPoints.fromEnvironment()).applyRequests(s);
            return steps > 0 ? "done" : "recorded; the next pass carries it out once it has recovered the interrupted step";
        } catch (t3.reconciler.controller.actuator.ActuatorException e) {
            throw new CliException(Main.FAILED, "recorded, but carrying it out failed: " + e.getMessage() + "; the next pass retries it");
        }
    }
}
