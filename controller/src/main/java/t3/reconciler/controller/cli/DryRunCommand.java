package t3.reconciler.controller.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.HealthCheck;
import t3.reconciler.controller.actuator.Packages;
import t3.reconciler.controller.actuator.npm.PackageName;
import t3.reconciler.controller.actuator.proc.DescriptorTrees;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.Version;

/**
 * The bump's install and health-check gates without the bump: the candidate goes into a temporary prefix under the
 * health check's scratch dir (never the versions dir, never the link), and the same {@link HttpHealthCheck} the
 * executor uses runs it on a copy of the seed user's newest verified backup. No unit is touched. The same path as a
 * bump, so candidate code runs as {@code install.user} here too: npm stages and re-owns the install in a directory of
 * root's (the scratch dir may be world-writable; the staging dir and the rename happen inside root's own dir).
 */
@Command(name = "dry-run", mixinStandardHelpOptions = true, description = {
        "Try a version's health check on a copy of real data, touching no one.",
        "Installs the candidate (the channel's or pinned version, or VERSION) into a temporary prefix and runs the full",
        "health-check gate on a copy of the seed user's newest verified backup. No global install, no restarts.",
        "Prints PASS <version> or FAIL <version>: <reason>. Exit 0 PASS, 1 FAIL, 3 no verified backup to seed from."})
final class DryRunCommand implements Callable<Integer> {
    @Mixin SpecOption spec;

    @Parameters(arity = "0..1", paramLabel = "VERSION", description = "version to try (default: what the desired state resolves to)")
    String version;

    @Override
    public Integer call() throws Exception {
        DesiredState s = spec.load();
        Version v = version != null ? Args.version(version) : null;
        String seedUser = s.healthCheck().seedUser().orElse(s.users().get(0).name());
        Optional<BackupInfo> seed = Wiring.backups(s).list(seedUser).stream().filter(BackupInfo::verified).findFirst();
        if (seed.isEmpty()) {
            throw new CliException(Main.REFUSED, "refused: no verified backup of " + seedUser + " (the seed user) to run the health check on; take one with 't3-reconciler backup " + seedUser + "'");
        }
        Packages npm = Wiring.packages(s);
        if (v == null) v = s.pin().isPresent() ? s.pin().get() : npm.resolve(s.packageName(), s.track());
        String source = version != null ? "as asked" : s.pin().map(p -> "pin").orElse(s.packageName() + "@" + s.track().tag());
        System.out.println("dry run of " + v + " (" + source + ") on a copy of " + seedUser + "'s backup " + seed.get().path().getFileName()
                + " (" + seed.get().version() + ", " + seed.get().takenAt() + ")");

        Progress progress = Progress.forStdout();
        Files.createDirectories(s.healthCheck().scratchDir());
        Path work = Files.createTempDirectory(s.healthCheck().scratchDir(), "t3-dry-run-");
        // root's and written by root only; searchable, so that install.user can run the binary installed below it.
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path prefix = work.resolve("prefix");
        String verdict;
        boolean passed;
        try {
            Version want = v;
            Optional<String> installFailure = progress.step("installing " + v + " into " + prefix, () -> {
                try {
                    npm.install(s.packageName(), want, prefix);
                    Optional<Version> got = npm.installedVersion(s.packageName(), prefix);
                    if (!got.equals(Optional.of(want))) return Optional.of("installed " + want + " but the binary reports " + got.map(Version::toString).orElse("nothing"));
                    return Optional.<String>empty();
                } catch (ActuatorException e) {
                    if (e.isTransient()) throw e;
                    return Optional.of("install: " + e.getMessage());
                }
            });
            if (installFailure.isPresent()) {
                passed = false;
                verdict = installFailure.get();
            } else {
                Path binary = prefix.resolve("bin").resolve(new PackageName(s.packageName()).binName());
                HealthCheck.Result r = progress.step("health check of " + v, () -> Wiring.healthCheck(s).check(binary, seed.get().path(), s.healthCheck()));
                passed = r.passed();
                verdict = passed ? r.detail() : "health check (" + r.gate() + "): " + r.detail();
            }
        } finally {
            delete(work);
        }
        String line = passed ? "PASS " + v + ": " + verdict : "FAIL " + v + ": " + verdict;
        System.out.println(line);
        try (StateStore store = StateStore.open(s.controller().stateDb())) {
            store.event(Instant.now(), "dry-run", v.toString(), passed ? "ok" : "failed", Args.who() + ": " + line);
        }
        return passed ? Main.OK : Main.FAILED;
    }

    private static void delete(Path prefix) {
        try {
            DescriptorTrees.delete(prefix);
        } catch (IOException e) {
            System.err.println("warning: could not remove the temporary prefix " + prefix + ": " + e.getMessage());
        }
    }
}
