package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import t3.reconciler.controller.actuator.backup.SqliteBackups;
import t3.reconciler.controller.actuator.npm.SymlinkReleases;
import t3.reconciler.controller.actuator.systemd.DbusUnits;
import t3.reconciler.controller.cli.Main;
import t3.reconciler.controller.store.Event;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.Version;

/**
 * Faults on the registry side of a bump, on one real bed (one user), in order: the registry goes away and comes
 * back; it accepts and never answers; the published build does not install; the {@code nightly} tag moves backward;
 * a registry that lies with versions carrying shell and path syntax. Each asserts that nothing was touched that the
 * fault should have spared (link, prefixes, backups, the running server) and that the reason is in the event log.
 *
 * <p>Exit codes of {@code run --once} under a fault: 3 (held by a gate) for every case here; the daemon retries an
 * outage gate ({@code resolve}) with backoff and waits for an operator or a newer build on the others.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultRegistryIT {
    static final String USER = "t3f-ra";
    static final Version V0 = Version.parse("0.0.25-nightly.20260601.1");
    static final Version V1 = Version.parse("0.0.25-nightly.20260608.2");
    static final Version BROKEN = Version.parse("0.0.26-nightly.20260609.3");
    static Bed bed;

    @BeforeAll
    static void up() throws Exception {
        bed = Bed.fresh(USER);
    }

    @AfterAll
    static void down() throws Exception {
        if (bed != null) bed.close();
    }

    @Test
    @Order(1)
    void registryDownHoldsWithoutTouchingAnythingThenTheBumpProceeds() throws Exception {
        assertEquals(Main.OK, Main.run("run", "--once", "-f", bed.spec.toString()), "the bed converges on " + V0 + " first");
        bed.publish(V1.toString(), "good", "nightly");
        Snapshot before = Snapshot.take();
        long eventsBefore = lastEventId();

        registry("down");
        assertEquals(Main.REFUSED, Main.run("run", "--once", "-f", bed.spec.toString()), "held, not failed: an outage is waited out");

        before.assertUnchanged("registry down");
        assertFalse(Files.exists(bed.dir.resolve("versions/" + V1)), "no prefix made for a version nobody could resolve");
        Event hold = holdSince(eventsBefore, "hold:resolve");
        assertTrue(hold.reason().contains("ECONNREFUSED"), "the hold says why: " + hold.reason());
        try (StateStore store = StateStore.open(bed.stateDb())) {
            assertFalse(store.rollout().isPresent(), "no rollout was started");
        }

        // Back (on a new port, as a restarted registry may be): the bump goes through.
        String url = registry("up").strip();
        rewrite(bed.spec, "  registry: .*", "  registry: " + url);
        assertEquals(Main.OK, Main.run("run", "--once", "-f", bed.spec.toString()));
        assertEquals(bed.dir.resolve("versions/" + V1 + "/bin/t3"), Files.readSymbolicLink(bed.link()));
    }

    @Test
    @Order(2)
    void aRegistryThatNeverAnswersTimesOutAndHolds() throws Exception {
        Snapshot before = Snapshot.take();
        long eventsBefore = lastEventId();
        try (HostileRegistry silent = HostileRegistry.silent()) {
            Path spec = variant("silent", silent.url(), "4s");
            // npm's own fetch timeout (half of install.timeout) must end it; the bound only turns a hang into a failure.
            int exit = assertTimeoutPreemptively(Duration.ofSeconds(90), () -> Main.run("run", "--once", "-f", spec.toString()), "run --once hung on a silent registry");
            assertEquals(Main.REFUSED, exit);
            assertFalse(silent.requests.isEmpty(), "npm did reach the silent registry");
        }
        before.assertUnchanged("silent registry");
        Event hold = holdSince(eventsBefore, "hold:resolve");
        assertTrue(hold.reason().matches("(?s).*(ETIMEDOUT|ESOCKETTIMEDOUT|timed out|timeout).*"), "the hold says it timed out: " + hold.reason());
    }

    @Test
    @Order(3)
    void aBuildThatFailsToInstallIsNeverActivatedAndLeavesNoCompletePrefix() throws Exception {
        Snapshot before = Snapshot.take();
        bed.publish(BROKEN.toString(), "install-fails", "nightly");

        assertEquals(Main.REFUSED, Main.run("run", "--once", "-f", bed.spec.toString()), "held by the breaker the failed install opened");

        assertEquals(before.link, Files.readSymbolicLink(bed.link()), "the link never moved");
        assertEquals(before.pid, mainPid(), "the user's server was not restarted");
        Path prefix = bed.dir.resolve("versions/" + BROKEN);
        assertFalse(Files.exists(prefix), "what the failed npm run left is removed, not kept as a release");
        assertFalse(new SymlinkReleases(bed.dir.resolve("versions"), bed.link(), "t3").present().contains(BROKEN));
        try (StateStore store = StateStore.open(bed.stateDb())) {
            Event install = events(store).stream().filter(e -> e.action().equals("install") && e.target().equals(BROKEN.toString())).findFirst().orElseThrow();
            assertEquals("failed", install.outcome());
            assertTrue(install.reason().contains("preinstall"), "says why: " + install.reason());
            assertTrue(store.blocked().contains(BROKEN), "blocked");
            assertEquals(Optional.of(V1), store.lastGood());
            assertFalse(store.rollout().isPresent(), "the failed rollout is closed");
        }
    }

    @Test
    @Order(4)
    void theNightlyTagMovedBackwardIsRefusedAsADowngrade() throws Exception {
        Files.deleteIfExists(bed.freezeFile()); // the operator lifts the self-freeze of the failed install
        registryScript("tag", bed.dir.resolve("registry").toString(), V0.toString(), "nightly");
        Snapshot before = Snapshot.take();
        long eventsBefore = lastEventId();

        assertEquals(Main.REFUSED, Main.run("run", "--once", "-f", bed.spec.toString()));

        before.assertUnchanged("tag moved backward");
        Event hold = holdSince(eventsBefore, "hold:downgrade");
        assertTrue(hold.reason().contains(V0 + ", older than " + V1) && hold.reason().contains("refusing to downgrade"), hold.reason());
        try (StateStore store = StateStore.open(bed.stateDb())) {
            assertFalse(store.rollout().isPresent(), "no rollout was started");
            assertEquals(Optional.of(V1), store.lastGood());
        }
    }

    @Test
    @Order(5)
    void versionStringsCarryingShellOrPathSyntaxAreRefusedBeforeAnyInstall() throws Exception {
        String valid = "0.0.27-nightly.20260701.1";
        List<String[]> lies = List.of(
                new String[] {valid, "0.0.1; rm -rf /"}, new String[] {valid, "../../etc"}, new String[] {valid, "0.0.1\n; id"},
                new String[] {valid, "\uFF10.0.1"}, new String[] {valid, "0.0.27-nightly.20260701.1/../../../tmp/x"},
                // The tag itself lies: npm cannot find such a version and says so; still nothing is installed.
                new String[] {"0.0.1; rm -rf /", "0.0.1; rm -rf /"}, new String[] {"../../etc", "../../etc"});
        Files.deleteIfExists(bed.freezeFile());
        Set<Path> versionsBefore = list(bed.dir.resolve("versions"));
        for (String[] lie : lies) {
            Snapshot before = Snapshot.take();
            long eventsBefore = lastEventId();
            try (HostileRegistry liar = HostileRegistry.lying(lie[0], lie[1])) {
                Path spec = variant("liar", liar.url(), "30s");
                assertEquals(Main.REFUSED, Main.run("run", "--once", "-f", spec.toString()), "refused: " + lie[1]);
                assertTrue(liar.requests.stream().anyMatch(r -> r.startsWith("GET /t3")), "the lie was served: " + liar.requests);
                assertFalse(liar.anyTarballFetched(), "npm install never ran for " + lie[1] + ": " + liar.requests);
            }
            before.assertUnchanged(lie[1]);
            assertEquals(versionsBefore, list(bed.dir.resolve("versions")), "no directory was created for " + lie[1]);
            Event hold = holdSince(eventsBefore, "hold:resolve");
            assertTrue(hold.reason().contains("invalid version") || hold.reason().contains("E404"), "refused with a reason: " + hold.reason());
            assertFalse(hold.reason().contains("\n"), "the logged reason is one line: " + hold.reason());
            try (StateStore store = StateStore.open(bed.stateDb())) {
                assertFalse(store.rollout().isPresent(), "no rollout was started for " + lie[1]);
            }
        }
    }

    @Test
    @Order(6)
    void aSinglePassRefusesWhileAnotherControllerHoldsTheLock() throws Exception {
        // Another controller (here a process holding the same POSIX lock the daemon takes) owns the machine.
        Path lockFile = bed.stateDb().resolveSibling(bed.stateDb().getFileName() + ".lock");
        Process holder = new ProcessBuilder("python3", "-c",
                "import fcntl, sys; f = open(sys.argv[1], 'a'); fcntl.lockf(f, fcntl.LOCK_EX); print('locked', flush=True); sys.stdin.read()",
                lockFile.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            assertEquals("locked", new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream())).readLine());
            Snapshot before = Snapshot.take();
            long eventsBefore = lastEventId();
            assertEquals(Main.FAILED, Main.run("run", "--once", "-f", bed.spec.toString()), "refuses to run beside another controller");
            before.assertUnchanged("second controller");
            assertEquals(eventsBefore, lastEventId(), "the refused pass recorded nothing: it never ran");
        } finally {
            holder.getOutputStream().close();
            holder.waitFor();
        }
        assertEquals(Main.REFUSED, Main.run("run", "--once", "-f", bed.spec.toString()), "with the lock free, a pass runs again (and holds as before)");
    }

    /** What a fault must leave as it was: the link, the user's server process, the set of backups. */
    record Snapshot(Path link, long pid, Set<Path> backups) {
        static Snapshot take() throws Exception {
            return new Snapshot(Files.readSymbolicLink(bed.link()), mainPid(), backupFiles());
        }

        void assertUnchanged(String fault) throws Exception {
            assertEquals(link, Files.readSymbolicLink(bed.link()), fault + ": the link never moved");
            assertEquals(pid, mainPid(), fault + ": the user's server was not restarted");
            assertEquals(backups, backupFiles(), fault + ": no backup taken or pruned");
        }
    }

    static Set<Path> backupFiles() throws Exception {
        return new SqliteBackups(bed.dir.resolve("backups")).list(USER).stream().map(b -> b.path()).collect(Collectors.toSet());
    }

    static long mainPid() throws Exception {
        try (DbusUnits units = new DbusUnits(bed.bus(), Duration.ofSeconds(2))) {
            return units.status("t3-serve@" + USER + ".service").mainPid();
        }
    }

    static List<Event> events(StateStore store) { return store.events(Optional.empty(), 1000); }

    static long lastEventId() {
        try (StateStore store = StateStore.open(bed.stateDb())) {
            return events(store).stream().mapToLong(Event::id).max().orElse(0);
        }
    }

    /** The hold recorded after {@code since}: each fault here must leave one, with its reason. */
    static Event holdSince(long since, String action) {
        try (StateStore store = StateStore.open(bed.stateDb())) {
            List<Event> after = events(store).stream().filter(e -> e.id() > since).toList();
            return after.stream().filter(e -> e.action().equals(action)).findFirst()
                    .orElseThrow(() -> new AssertionError("no " + action + " event; events since: " + after));
        }
    }

    /** A copy of the bed's desired state with another registry and install timeout, beside it (same state DB). */
    static Path variant(String name, URI registry, String timeout) throws Exception {
        Path spec = bed.dir.resolve("desired-state-" + name + ".yaml");
        Files.writeString(spec, Files.readString(bed.spec).replaceAll("(?m)^  registry: .*$", "  registry: " + registry)
                .replaceAll("(?m)^  timeout: .*$", "  timeout: " + timeout));
        return spec;
    }

    static void rewrite(Path file, String lineRegex, String replacement) throws Exception {
        Files.writeString(file, Files.readString(file).replaceAll("(?m)^" + lineRegex + "$", replacement));
    }

    static Set<Path> list(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.collect(Collectors.toSet());
        }
    }

    static String registry(String verb) throws Exception { return registryScript(verb, bed.dir.resolve("registry").toString()); }

    static String registryScript(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(Bed.repoRoot().resolve("testbed/registry.sh").toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(bed.dir.resolve("bed.stderr.log").toFile())).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), "registry.sh " + cmd + " failed; see " + bed.dir.resolve("bed.stderr.log"));
        return out;
    }
}
