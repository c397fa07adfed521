package t3.reconciler.controller.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The CLI's promises that need no machine: exit codes, messages naming file:line, --help everywhere. */
class CliTest {
    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true));
            System.setErr(new PrintStream(e, true));
            int code = Main.run(args);
            return new Run(code, o.toString(), e.toString());
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    static Path example() {
        Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (!Files.exists(p.resolve("desired-state.example.yaml"))) p = p.getParent();
        return p.resolve("desired-state.example.yaml");
    }

    @Test
    void validateAcceptsTheExample() {
        Run r = run("validate", example().toString());
        assertEquals(Main.OK, r.code(), r.err());
        assertTrue(r.out().contains(": ok ("), r.out());
    }

    @Test
    void validateNamesFileLineAndFieldAndExitsTwo(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.yaml");
        Files.writeString(f, "users: [alice]\ntrack: weekly\n");
        Run r = run("validate", f.toString());
        assertEquals(Main.USAGE, r.code());
        assertTrue(r.err().startsWith(f + ":2:8: track: "), r.err());
    }

    @Test
    void commandsRefuseAnInvalidSpecWithoutAStackTrace(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.yaml");
        Files.writeString(f, "users: [../../etc]\n");
        Run r = run("plan", "-f", f.toString());
        assertEquals(Main.USAGE, r.code());
        assertTrue(r.err().contains(f + ":1:"), r.err());
        assertTrue(!r.err().contains("Exception") && !r.err().contains("\tat "), r.err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"validate", "plan", "status", "run", "events", "freeze", "unfreeze", "reconcile", "backups", "backup", "dry-run", "rollback", "unblock", "promote", "abort", "fleet", "fleet status", "fleet unlock", "fleet freeze", "fleet unfreeze", "fleet unblock"})
    void everyCommandHasHelp(String command) {
        Run r = run((command + " --help").split(" "));
        assertEquals(Main.OK, r.code());
        assertTrue(r.out().contains("Usage: t3-reconciler " + command), r.out());
    }

    /** The command list of {@code t3-reconciler --help} shows only each description's first line: it must be a whole sentence. */
    @ParameterizedTest
    @ValueSource(strings = {"validate", "plan", "status", "run", "events", "freeze", "unfreeze", "reconcile", "backups", "backup", "dry-run", "rollback", "unblock", "promote", "abort", "fleet"})
    void everyCommandSummaryIsOneCompleteSentence(String command) {
        String summary = new picocli.CommandLine(new Main()).getSubcommands().get(command).getCommandSpec().usageMessage().description()[0];
        assertTrue(summary.endsWith("."), command + "'s summary in --help stops mid-sentence: " + summary);
        String help = run("--help").out();
        // picocli wraps a long summary onto indented lines, and may break inside a word such as file:line:column.
        assertTrue(help.replaceAll("\\s+", "").contains((command + summary).replaceAll("\\s+", "")), command + "'s summary is not shown whole in --help: " + help);
    }

    @Test
    void eventsSinceTakesAnInstantOrHowLongAgo() {
        java.time.Instant now = java.time.Instant.parse("2026-06-08T04:00:00Z");
        assertEquals(java.time.Instant.parse("2026-06-08T02:00:00Z"), EventsCommand.since("2h", now));
        assertEquals(java.time.Instant.parse("2026-06-08T03:30:00Z"), EventsCommand.since("30m", now));
        assertEquals(java.time.Instant.parse("2026-06-07T04:00:00Z"), EventsCommand.since("1d", now));
        assertEquals(java.time.Instant.parse("2026-06-08T02:30:00Z"), EventsCommand.since("PT90M", now));
        assertEquals(java.time.Instant.parse("2026-06-01T00:00:00Z"), EventsCommand.since("2026-06-01T00:00:00Z", now));
        assertEquals(Main.USAGE, run("events", "-f", example().toString(), "--since", "yesterday").code());
    }

    @Test
    void promoteAndAbortRecordTheOperatorsWordOnlyForTheRolloutInFlight(@TempDir Path dir) throws Exception {
        var spec = t3.reconciler.controller.fake.FakeSpec.write(dir, List.of("alice"), "");
        var b = t3.reconciler.model.Version.parse("0.0.25-nightly.20260608.2");
        for (String cmd : List.of("promote", "abort")) {
            Run none = run(cmd, "-f", spec.source().toString());
            assertEquals(Main.USAGE, none.code(), none.err());
            assertTrue(none.err().contains("no rollout is in flight"), none.err());
        }
        try (var store = t3.reconciler.controller.store.StateStore.open(spec.controller().stateDb())) {
            store.startRollout(b, java.util.Optional.empty(), java.time.Instant.now());
        }
        Run other = run("promote", "0.0.25-nightly.20260609.3", "-f", spec.source().toString());
        assertEquals(Main.USAGE, other.code(), other.err());
        assertTrue(other.err().contains("targets " + b), other.err());
        Run ok = run("promote", "-f", spec.source().toString(), "--reason", "alice looks fine");
        assertEquals(Main.OK, ok.code(), ok.err());
        try (var store = t3.reconciler.controller.store.StateStore.open(spec.controller().stateDb())) {
            var reqs = store.approvalRequests();
            assertEquals(1, reqs.size());
            assertEquals(t3.reconciler.model.ApprovalRequest.Kind.PROMOTE, reqs.get(0).kind());
            assertEquals(b, reqs.get(0).version());
            assertEquals("alice looks fine", reqs.get(0).reason());
        }
    }

    @Test
    void versionArgumentsAreValidatedBeforeAnything() {
        for (String[] args : new String[][] {{"dry-run", "1.0; rm -rf /"}, {"rollback", "--to", "../x"}, {"unblock", "latest"}}) {
            String[] full = java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.stream.Stream.of("-f", example().toString())).toArray(String[]::new);
            Run r = run(full);
            assertEquals(Main.USAGE, r.code(), String.join(" ", args) + ": " + r.err());
            assertTrue(r.err().contains("is not a valid version"), r.err());
        }
    }

    @Test
    void progressRewritesOneLineInATerminalAndWritesPlainLinesOtherwise() throws Exception {
        ByteArrayOutputStream tty = new ByteArrayOutputStream();
        assertEquals("x", new Progress(new PrintStream(tty, true), true).step("installing", () -> "x"));
        assertTrue(tty.toString().startsWith("\rinstalling ...") && tty.toString().contains("\rinstalling ... done (") && tty.toString().endsWith("\n"), tty.toString());
        assertEquals(1, tty.toString().chars().filter(c -> c == '\n').count(), "one line, rewritten in place");

        ByteArrayOutputStream plain = new ByteArrayOutputStream();
        new Progress(new PrintStream(plain, true), false).step("installing", () -> "x");
        assertTrue(!plain.toString().contains("\r"), plain.toString());
        assertEquals(List.of("installing ...", "installing ... done"), plain.toString().lines().map(l -> l.replaceAll(" \\(.*\\)$", "")).toList());
    }

    @Test
    void rollbackTargetsThePendingRequestThenAnOlderLastGoodThenTheVersionBeforeTheLastBump() {
        var v0 = t3.reconciler.model.Version.parse("0.0.25-nightly.20260601.1");
        var v1 = t3.reconciler.model.Version.parse("0.0.25-nightly.20260608.2");
        var v2 = t3.reconciler.model.Version.parse("0.0.26-nightly.20260615.3");
        java.time.Instant t = java.time.Instant.parse("2026-06-08T04:00:00Z");
        List<t3.reconciler.controller.store.Activation> history = List.of(new t3.reconciler.controller.store.Activation(v0, t),
                new t3.reconciler.controller.store.Activation(v1, t.plusSeconds(60)), new t3.reconciler.controller.store.Activation(v2, t.plusSeconds(120)));
        java.util.function.BiFunction<t3.reconciler.model.Version, t3.reconciler.model.Version, t3.reconciler.model.ObservedState> obs = (installed, lastGood) ->
                new t3.reconciler.model.ObservedState(t, java.util.Optional.of(installed), java.util.Set.of(installed), java.util.Optional.of(lastGood),
                        t3.reconciler.model.ObservedState.Candidate.notAsked(), List.of(), java.util.Optional.empty(), t3.reconciler.model.BreakerState.closed(),
                        java.util.Set.of(), java.util.Optional.empty(), false);
        assertEquals(v1, RollbackCommand.defaultTarget(obs.apply(v2, v2), history), "right after a good bump: the version before it");
        assertEquals(v0, RollbackCommand.defaultTarget(obs.apply(v2, v0), history), "last-good, older than installed");
        assertEquals(v0, RollbackCommand.defaultTarget(obs.apply(v0, v2).withRollbackRequest(java.util.Optional.of(
                new t3.reconciler.model.RollbackRequest(v0, false, "ops", t))), history), "mid-rollback (last-good not moved yet): the pending target");
        CliException none = org.junit.jupiter.api.Assertions.assertThrows(CliException.class, () -> RollbackCommand.defaultTarget(obs.apply(v0, v0), history));
        assertEquals(Main.REFUSED, none.exitCode);
    }

    @Test
    void unknownOptionIsAUsageError() {
        assertEquals(Main.USAGE, run("status", "--bogus").code());
    }

    /** The fleet's summaries are shown in {@code fleet --help} as the top-level ones are in {@code --help}. */
    @ParameterizedTest
    @ValueSource(strings = {"status", "unlock", "freeze", "unfreeze", "unblock"})
    void everyFleetCommandSummaryIsOneCompleteSentence(String command) {
        var fleet = new picocli.CommandLine(new Main()).getSubcommands().get("fleet");
        String summary = fleet.getSubcommands().get(command).getCommandSpec().usageMessage().description()[0];
        assertTrue(summary.endsWith("."), "fleet " + command + "'s summary stops mid-sentence: " + summary);
        String help = run("fleet", "--help").out();
        assertTrue(help.replaceAll("\\s+", "").contains((command + summary).replaceAll("\\s+", "")), "fleet " + command + "'s summary is not shown whole: " + help);
    }

    @Test
    void fleetArgumentsAreValidatedBeforeAnything() {
        Run host = run("fleet", "unlock", "../slots/x", "-f", example().toString());
        assertEquals(Main.USAGE, host.code(), host.err());
        assertTrue(host.err().contains("'../slots/x' is not a valid host id"), host.err());
        Run version = run("fleet", "unblock", "latest", "-f", example().toString());
        assertEquals(Main.USAGE, version.code(), version.err());
        assertTrue(version.err().contains("is not a valid version"), version.err());
        assertEquals(Main.USAGE, run("fleet").code(), "a subcommand is required");
    }

    @Test
    void fleetCommandsRefuseASpecWithoutAFleetSectionByName() {
        for (String[] cmd : new String[][] {{"status"}, {"status", "--json"}, {"unlock", "host-b"}, {"freeze"}, {"unfreeze"}, {"unblock", "0.0.27"}}) {
            String[] full = java.util.stream.Stream.concat(java.util.stream.Stream.concat(java.util.stream.Stream.of("fleet"), java.util.Arrays.stream(cmd)),
                    java.util.stream.Stream.of("-f", example().toString())).toArray(String[]::new);
            Run r = run(full);
            assertEquals(Main.USAGE, r.code(), String.join(" ", cmd) + ": " + r.err());
            assertTrue(r.err().contains(example() + ": no fleet: section"), r.err());
        }
    }

    /** install.sh installs what generate-completion prints: the fleet's subcommands must be in it. */
    @Test
    void shellCompletionOffersTheFleetCommands() {
        String script = run("generate-completion").out();
        for (String c : List.of("status", "unlock", "freeze", "unfreeze", "unblock")) {
            assertTrue(script.contains("${COMP_WORDS[0]} fleet " + c + "\""), "no completion for fleet " + c);
        }
    }
}
