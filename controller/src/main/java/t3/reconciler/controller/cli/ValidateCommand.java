package t3.reconciler.controller.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.DesiredStateLoader;
import t3.reconciler.model.InvalidDesiredStateException;

@Command(name = "validate", mixinStandardHelpOptions = true, description = "Check a desired-state file; print every problem as file:line:column: field: message.")
final class ValidateCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "the desired-state file")
    Path file;

    @Override
    public Integer call() {
        try {
            DesiredState s = DesiredStateLoader.load(file);
            for (String note : DesiredStateLoader.notes(s)) System.out.println(file + ": note: " + note);
            System.out.println(file + ": ok (" + s.users().size() + " users, " + (s.pin().map(v -> "pin " + v).orElse("track " + s.track().tag())) + ")");
            return Main.OK;
        } catch (InvalidDesiredStateException e) {
            System.err.println(e.getMessage());
            return Main.USAGE;
        }
    }
}
