package t3.reconciler.controller.cli;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import t3.reconciler.controller.loop.Observer;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.ObservedState;
import t3.reconciler.model.User;
import t3.reconciler.model.UserState;
import t3.reconciler.model.Version;

/**
 * An on-demand online backup ({@code VACUUM INTO}, verified), the same actuator the daily and pre-bump backups use.
 * The file is named after the version the user's server runs, so a rollback to that version can find it.
 */
@Command(name = "backup", mixinStandardHelpOptions = true, description = {
        "Take a verified online backup of the named users' databases (default: every user) now.",
        "Prints per user: path, size, time. Exit 2 for an unknown user, 1 if a backup failed."})
final class BackupCommand implements Callable<Integer> {
    @Mixin SpecOption spec;

    @Parameters(arity = "0..*", paramLabel = "USER")
    List<String> users = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        DesiredState s = spec.load();
        List<String> names = users.isEmpty() ? s.users().stream().map(User::name).toList() : users.stream().map(u -> Args.user(s, u)).toList();
        int failed = 0;
        try (Wiring w = Wiring.open(s)) {
            ObservedState obs = new Observer(w.io, w.store, Clock.systemUTC()).observe(s, false, false);
            Progress progress = Progress.forStdout();
            for (String name : names) {
                UserState u = obs.user(name).orElseThrow();
                Optional<Version> on = u.runningVersion().or(obs::installed);
                // lstat, existence only: root does not follow a link the user planted; the backup itself refuses one.
                if (!Files.exists(s.databaseOf(name), LinkOption.NOFOLLOW_LINKS)) {
                    System.out.println(name + ": skipped, no database at " + s.databaseOf(name));
                    continue;
                }
                if (on.isEmpty()) {
                    System.out.println(name + ": FAILED, cannot tell which version its database belongs to (unit not running, nothing installed)");
                    failed++;
                    continue;
                }
                try {
                    BackupInfo b = progress.step("backing up " + name, () -> w.io.backups().backup(name, s.databaseOf(name), on.get()));
                    System.out.printf("%s: %s  %d KiB  %s  on %s%s%n", name, b.path(), b.bytes() / 1024, b.takenAt(), b.version(), b.verified() ? ", verified" : ", NOT VERIFIED");
                    w.store.event(Instant.now(), "backup", name, b.verified() ? "ok" : "failed", Args.who() + ": on-demand backup " + b.path() + " (" + b.bytes() + " bytes)");
                    if (!b.verified()) failed++;
                } catch (Exception e) {
                    System.out.println(name + ": FAILED: " + e.getMessage());
                    w.store.event(Instant.now(), "backup", name, "failed", Args.who() + ": on-demand backup: " + e.getMessage());
                    failed++;
                }
            }
        }
        return failed == 0 ? Main.OK : Main.FAILED;
    }
}
