package t3.reconciler.controller.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.DesiredStateLoader;
import t3.reconciler.model.InvalidDesiredStateException;

/** The desired-state file every command reads; {@code T3R_SPEC} or {@code /etc/t3-reconciler/desired-state.yaml} by default. */
final class SpecOption {
    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "desired-state file (default: $T3R_SPEC or /etc/t3-reconciler/desired-state.yaml)")
    Path file;

    Path path() {
        if (file != null) return file;
        String env = System.getenv("T3R_SPEC");
        return Path.of(env != null ? env : "/etc/t3-reconciler/desired-state.yaml");
    }

    /** Loads or throws {@link CliException} with exit code 2 and the loader's file:line:column messages. */
    DesiredState load() {
        try {
            return DesiredStateLoader.load(path());
        } catch (InvalidDesiredStateException e) {
            throw new CliException(Main.USAGE, e.getMessage());
        }
    }
}
