package t3.reconciler.controller.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import t3.reconciler.controller.actuator.Backups;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.User;

@Command(name = "backups", mixinStandardHelpOptions = true, description = "List backups per user: version (schema), time, size, verified.")
final class BackupsCommand implements Callable<Integer> {
    @Mixin SpecOption spec;

    @Parameters(arity = "0..1", paramLabel = "USER")
    String user;

    @Override
    public Integer call() throws Exception {
        DesiredState s = spec.load();
        if (user != null && !User.isValidName(user)) throw new CliException(Main.USAGE, "'" + user + "' is not a valid user name");
        Backups backups = Wiring.backups(s);
        List<String> names = user != null ? List.of(user) : s.users().stream().map(User::name).toList();
        for (String name : names) {
            System.out.println(name + ":");
            for (BackupInfo b : backups.list(name)) {
                System.out.printf("  %s  %-30s %8d KiB  %s  %s%n", b.takenAt(), b.version(), b.bytes() / 1024, b.verified() ? "verified" : "NOT VERIFIED", b.path());
            }
        }
        return Main.OK;
    }
}
