package t3.reconciler.controller.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import t3.reconciler.controller.loop.Daemon;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.DesiredState;

@Command(name = "reconcile", mixinStandardHelpOptions = true, description = "Ask the running daemon to reconcile now (SIGHUP through its pid file).")
final class ReconcileCommand implements Callable<Integer> {
    @Mixin SpecOption spec;

    @Option(names = "--outside-window", description = "let this pass start a bump outside the maintenance window (recorded in the event log)")
    boolean override;

    @Override
    public Integer call() throws IOException {
        DesiredState s = spec.load();
        long pid;
        try {
            pid = Long.parseLong(Files.readString(s.controller().pidFile()).strip());
        } catch (IOException | NumberFormatException e) {
            throw new CliException(Main.FAILED, "no running daemon: cannot read " + s.controller().pidFile() + " (" + e.getMessage() + ")");
        }
        if (ProcessHandle.of(pid).isEmpty()) throw new CliException(Main.FAILED, "no running daemon: pid " + pid + " from " + s.controller().pidFile() + " is gone");
        if (override) {
            Files.writeString(Daemon.overrideFileOf(s), Instant.now() + "\n");
            try (StateStore store = StateStore.open(s.controller().stateDb())) {
                store.event(Instant.now(), "window-override", "-", "ok", "requested by " + System.getenv().getOrDefault("SUDO_USER", System.getProperty("user.name")));
            }
        }
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(pid)).inheritIO().start();
        try {
            if (kill.waitFor() != 0) throw new CliException(Main.FAILED, "kill -HUP " + pid + " failed");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Main.FAILED;
        }
        System.out.println("sent SIGHUP to " + pid + (override ? " with a window override" : "") + "; follow with: t3-reconciler events");
        return Main.OK;
    }
}
