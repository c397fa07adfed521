package t3.reconciler.controller.cli;

import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import t3.reconciler.model.ApprovalRequest;

@Command(name = "promote", mixinStandardHelpOptions = true, description = {
        "Let the rollout waiting at the approval gate (canary.approval: manual, canary.pauseAfter) go on.",
        "Counts for the rollout in flight only (VERSION, default its target); exit 2 if none is."})
final class PromoteCommand implements Callable<Integer> {
    @Mixin SpecOption spec;

    @Parameters(paramLabel = "VERSION", arity = "0..1")
    String version;

    @Option(names = "--reason", defaultValue = "promoted by the operator")
    String reason;

    @Override
    public Integer call() throws java.io.IOException {
        System.out.println(ApprovalRequests.record(spec.load(), ApprovalRequest.Kind.PROMOTE, Optional.ofNullable(version), reason));
        return Main.OK;
    }
}
