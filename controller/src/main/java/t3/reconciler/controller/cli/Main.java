package t3.reconciler.controller.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import t3.reconciler.controller.plan.ExitCode;

/**
 * {@code t3-reconciler <command>}. Exit codes: 0 ok, 1 an action failed, 2 bad usage or input, 3 refused by a gate.
 */
@Command(name = "t3-reconciler", mixinStandardHelpOptions = true, version = "t3-reconciler 0.1.0",
        description = "Keeps per-user t3 servers on the version the desired-state file asks for, gating every bump.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:ok", "1:an action failed", "2:bad usage or invalid input", "3:refused by a gate"})
public final class Main {
    public static final int OK = ExitCode.OK, FAILED = ExitCode.FAILED, USAGE = ExitCode.USAGE, REFUSED = ExitCode.REFUSED;

    /** Every subcommand, in the order help lists them. */
    private static final Map<String, Class<?>> SUBCOMMANDS = subcommands(
            ValidateCommand.class, PlanCommand.class, StatusCommand.class, RunCommand.class, EventsCommand.class,
            FreezeCommand.class, UnfreezeCommand.class, ReconcileCommand.class, DryRunCommand.class, RollbackCommand.class,
            BackupCommand.class, BackupsCommand.class, UnblockCommand.class, PromoteCommand.class, AbortCommand.class, FleetCommand.class,
            CommandLine.HelpCommand.class, picocli.AutoComplete.GenerateCompletion.class);

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        CommandLine cl = commandLine(args);
        cl.setExitCodeExceptionMapper(e -> USAGE);
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println(e instanceof CliException ? e.getMessage() : "t3-reconciler: " + e.getMessage());
            return e instanceof CliException c ? c.exitCode : FAILED;
        });
        return cl.execute(args);
    }

    /**
     * The command tree {@code args} needs. picocli builds the model of every subcommand it is given (annotations,
     * reflection: ~0.1 s of a ~0.4 s {@code run --once}), so when the first argument names one that needs no view of
     * the others, that one is enough. help and generate-completion describe the whole tree, and anything else (no
     * argument, an option, a typo) gets it too, so usage errors and their suggestions read as before.
     */
    static CommandLine commandLine(String... args) {
        CommandLine cl = new CommandLine(new Main());
        Class<?> only = args.length == 0 ? null : SUBCOMMANDS.get(args[0]);
        if (only != null && only != CommandLine.HelpCommand.class && only != picocli.AutoComplete.GenerateCompletion.class) {
            cl.addSubcommand(args[0], only);
        } else {
            SUBCOMMANDS.forEach(cl::addSubcommand);
        }
        return cl;
    }

    private static Map<String, Class<?>> subcommands(Class<?>... classes) {
        Map<String, Class<?>> byName = new LinkedHashMap<>();
        for (Class<?> c : classes) byName.put(c.getAnnotation(Command.class).name(), c);
        return byName;
    }
}
