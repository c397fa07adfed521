package t3.reconciler.controller.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import t3.reconciler.controller.loop.Daemon;
import t3.reconciler.controller.plan.ExitCode;
import t3.reconciler.controller.store.LastReconcile;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.DesiredState;

@Command(name = "reconcile", mixinStandardHelpOptions = true, description = {
        "Ask the running daemon to reconcile now (as systemctl reload t3-reconciler does).",
        "Sends SIGHUP to the pid its pid file names, once the kernel shows that process holds the daemon's lock.",
        "With --wait, wait until that reconcile ends (as the daemon records it in the state store) and print its outcome:",
        "exit 0 converged, 3 held by a gate, 1 failed."})
final class ReconcileCommand implements Callable<Integer> {
    @Mixin SpecOption spec;

    @Option(names = "--outside-window", description = "let this pass start a bump outside the maintenance window (recorded in the event log)")
    boolean override;

    @Option(names = "--wait", description = "wait for the reconcile this signal causes to finish and print its outcome")
    boolean await;

    @Option(names = "--timeout", defaultValue = "PT1H", paramLabel = "DURATION", description = "with --wait: give up after this long (ISO-8601, default PT1H)")
    Duration timeout;

    @Override
    public Integer call() throws IOException {
        DesiredState s = spec.load();
        DaemonClient.Found daemon = DaemonClient.find(s);
        long pid = daemon.pid().orElseThrow(() -> new CliException(Main.FAILED, "no daemon running (" + daemon.why() + "); nothing was signalled"));
        try (StateStore store = StateStore.open(s.controller().stateDb())) {
            if (override) {
                Files.writeString(Daemon.overrideFileOf(s), Instant.now() + "\n");
                store.event(Instant.now(), "window-override", "-", "ok", "requested by " + Args.who());
            }
            Instant sentAt = Instant.now();
            DaemonClient.hup(s, pid);
            if (!await) {
                System.out.println("sent SIGHUP to " + pid + (override ? " with a window override" : "") + "; follow with: t3-reconciler events");
                return Main.OK;
            }
            System.out.println("sent SIGHUP to " + pid + (override ? " with a window override" : "") + "; waiting for the reconcile to finish");
            LastReconcile last = DaemonClient.await(store, pid, sentAt, () -> false, timeout);
            System.out.println("reconciled: " + last.text());
            return last.outcome().map(ExitCode::of).orElse(Main.FAILED);
        }
    }
}
