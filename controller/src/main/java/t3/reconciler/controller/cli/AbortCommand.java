package t3.reconciler.controller.cli;

import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import t3.reconciler.model.ApprovalRequest;

@Command(name = "abort", mixinStandardHelpOptions = true, description = {
        "Fail the rollout in flight now, so it is rolled back as a failed canary is.",
        "Every user it touched is restored, the version blocked, the breaker opened. VERSION defaults to its target;",
        "exit 2 if no rollout is in flight."})
final class AbortCommand implements Callable<Integer> {
    @Mixin SpecOption spec;

    @Parameters(paramLabel = "VERSION", arity = "0..1")
    String version;

    @Option(names = "--reason", defaultValue = "aborted by the operator")
    String reason;

    @Override
    public Integer call() throws java.io.IOException {
        System.out.println(ApprovalRequests.record(spec.load(), ApprovalRequest.Kind.ABORT, Optional.ofNullable(version), reason));
        return Main.OK;
    }
}
