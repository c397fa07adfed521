package t3.reconciler.controller.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import t3.reconciler.controller.plan.ExitCode;

/**
 * {@code t3-reconciler <command>}. Exit codes: 0 ok, 1 an action failed, 2 bad usage or input, 3 refused by a gate.
 */
@Command(name = "t3-reconciler", mixinStandardHelpOptions = true, version = "t3-reconciler 0.1.0",
        description = "Keeps per-user t3 servers on the version the desired-state file asks for, gating every bump.",
        subcommands = {ValidateCommand.class, PlanCommand.class, StatusCommand.class, RunCommand.class, EventsCommand.class,
                FreezeCommand.class, UnfreezeCommand.class, ReconcileCommand.class, DryRunCommand.class, RollbackCommand.class, BackupCommand.class,
                BackupsCommand.class, UnblockCommand.class, PromoteCommand.class, AbortCommand.class, FleetCommand.class, CommandLine.HelpCommand.class, picocli.AutoComplete.GenerateCompletion.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:ok", "1:an action failed", "2:bad usage or invalid input", "3:refused by a gate"})
public final class Main {
    public static final int OK = ExitCode.OK, FAILED = ExitCode.FAILED, USAGE = ExitCode.USAGE, REFUSED = ExitCode.REFUSED;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExitCodeExceptionMapper(e -> USAGE);
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println(e instanceof CliException ? e.getMessage() : "t3-reconciler: " + e.getMessage());
            return e instanceof CliException c ? c.exitCode : FAILED;
        });
        return cl.execute(args);
    }
}
