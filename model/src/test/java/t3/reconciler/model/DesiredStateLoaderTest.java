package t3.reconciler.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

class DesiredStateLoaderTest {
    @TempDir
    Path dir;

    /** The repository's example file, found by walking up from the working directory (the module when run by Maven). */
    static Path exampleFile() {
        for (Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath(); p != null; p = p.getParent()) {
            Path f = p.resolve("desired-state.example.yaml");
            if (Files.isRegularFile(f)) return f;
        }
        throw new AssertionError("desired-state.example.yaml not found above " + System.getProperty("user.dir"));
    }

    @Test
    void exampleFileLoads() throws Exception {
        DesiredState s = DesiredStateLoader.load(exampleFile());
        assertEquals("t3", s.packageName());
        assertEquals(Channel.NIGHTLY, s.track());
        assertTrue(s.trackExplicit());
        assertEquals(List.of(User.of("alice"), new User("bob", "bob@corp.example")), s.users());
        assertEquals("t3-serve@alice.service", s.unitOf("alice"));
        assertEquals(Path.of("/home/bob/.t3/userdata/state.sqlite"), s.databaseOf("bob"));
        assertEquals(Optional.of("alice"), s.healthCheck().seedUser());
        assertEquals(List.of("/api/auth/browser-session", "/api/auth/bootstrap"), s.healthCheck().pairingEndpoints());
        assertEquals(Optional.of(new DesiredState.Window(LocalTime.of(3, 0), LocalTime.of(6, 0))), s.schedule().window());
    }

    @Test
    void aThreeLineFileGetsEveryDefault() throws Exception {
        Path f = write("minimal.yaml", "# the smallest useful file\npackage: t3\nusers: [alice]\n");
        DesiredState s = DesiredStateLoader.load(f);
        assertEquals(f, s.source());
        assertEquals("t3", s.packageName());
        assertEquals(Channel.NIGHTLY, s.track());
        assertFalse(s.trackExplicit());
        assertEquals(Optional.empty(), s.pin());
        assertFalse(s.freeze());
        assertEquals(List.of(User.of("alice")), s.users());
        assertEquals(Optional.empty(), s.usersFile());
        assertEquals("t3-serve@{user}.service", s.unitTemplate());
        assertEquals("t3-serve@*.service", s.unitPattern());
        assertEquals("/home/{user}/.t3/userdata/state.sqlite", s.databaseTemplate());
        assertEquals(new DesiredState.Install(Optional.empty(), Path.of("/var/lib/t3-reconciler/versions"), Path.of("/usr/local/bin/t3"),
                Path.of("/usr/bin/npm"), Duration.ofMinutes(5), 3, "t3-candidate"), s.install());
        assertEquals(new DesiredState.Backup(Path.of("/var/backups/t3-state"), 14, LocalTime.of(2, 30)), s.backup());
        DesiredState.HealthCheck h = s.healthCheck();
        assertEquals(Optional.of("alice"), h.seedUser());
        assertEquals(Path.of("/var/tmp"), h.scratchDir());
        assertEquals(0, h.port());
        assertEquals(List.of("/api/auth/browser-session", "/api/auth/bootstrap"), h.pairingEndpoints());
        assertEquals(Duration.ofMinutes(2), h.startTimeout());
        assertEquals(Duration.ofSeconds(10), h.requestTimeout());
        assertEquals(List.of("(?i)migration.*(fail|error)", "SQLITE_(ERROR|CORRUPT)"), h.migrationFailurePatterns().stream().map(Pattern::pattern).toList());
        DesiredState.Canary c = s.canary();
        assertEquals("claude|codex|opencode", c.busyPattern().pattern());
        assertEquals(Optional.empty(), c.dispatch());
        assertEquals(5, c.verifyAttempts());
        assertEquals(Duration.ofSeconds(2), c.verifyInterval());
        assertEquals(Duration.ofMinutes(10), c.deferRecheck());
        assertEquals(new DesiredState.Schedule(Duration.ofMinutes(15), Optional.of(new DesiredState.Window(LocalTime.of(3, 0), LocalTime.of(6, 0))),
                ZoneId.systemDefault()), s.schedule());
        assertEquals(new DesiredState.Breaker(DesiredState.BreakerPolicy.FREEZE, Duration.ofHours(6), Duration.ofDays(7)), s.breaker());
        assertEquals(new DesiredState.Alerts(Optional.empty(), Duration.ofDays(3)), s.alerts());
        assertEquals(new DesiredState.Controller(Path.of("/var/lib/t3-reconciler/state.db"), Path.of("/var/lib/t3-reconciler/freeze"),
                Path.of("/run/t3-reconciler/t3-reconciler.pid"), "127.0.0.1:9464", "system"), s.controller());
    }

    @Test
    void everyValueFormIsRead() throws Exception {
        DesiredState s = parse("""
                package: "@corp/t3.server"
                track: latest
                pin: 0.0.25-nightly.20260608.497
                freeze: yes
                users: [alice, {name: bob, login: bob@corp.example}]
                unit: 't3@{user}.service'
                install: {registry: "https://registry.example.com/npm/", timeout: PT1H30M, keepVersions: 2, user: t3-build}
                healthCheck: {seedUser: bob, port: 65535, migrationFailurePatterns: []}
                canary: {dispatch: "http://127.0.0.1:8080/", verifyInterval: 90s, verifyAttempts: 1}
                schedule: {window: "22:00-04:00", zone: Europe/Berlin, resync: p1d}
                breaker: {policy: backoff, initialWait: 1h, maxWait: 1h}
                alerts: {webhook: "https://hooks.example.com/t3?token=x"}
                controller: {metrics: off, bus: "unix:path=/run/user/1000/bus"}
                """);
        assertEquals("@corp/t3.server", s.packageName());
        assertEquals(Channel.LATEST, s.track());
        assertTrue(s.trackExplicit());
        assertEquals(Optional.of(Version.parse("0.0.25-nightly.20260608.497")), s.pin());
        assertTrue(s.freeze());
        assertEquals("t3@bob.service", s.unitOf("bob"));
        assertEquals(Optional.of(URI.create("https://registry.example.com/npm/")), s.install().registry());
        assertEquals(Duration.ofMinutes(90), s.install().timeout());
        assertEquals("t3-build", s.install().user());
        assertEquals(Optional.of("bob"), s.healthCheck().seedUser());
        assertEquals(List.of(), s.healthCheck().migrationFailurePatterns());
        assertEquals(Duration.ofSeconds(90), s.canary().verifyInterval());
        DesiredState.Window w = s.schedule().window().orElseThrow();
        assertTrue(w.contains(LocalTime.of(23, 0)) && w.contains(LocalTime.of(3, 59)) && !w.contains(LocalTime.of(4, 0)));
        assertEquals(ZoneId.of("Europe/Berlin"), s.schedule().zone());
        assertEquals(Duration.ofDays(1), s.schedule().resync());
        assertEquals(DesiredState.BreakerPolicy.BACKOFF, s.breaker().policy());
        assertEquals("off", s.controller().metricsAddress());
        assertEquals("unix:path=/run/user/1000/bus", s.controller().bus());
    }

    @Test
    void alwaysMeansNoWindowAndNullMeansDefault() throws Exception {
        DesiredState s = parse("users: [alice]\nschedule:\n  window: always\n  resync:\nalerts:\ncontroller: {metrics: '[::1]:9464'}\n");
        assertEquals(Optional.empty(), s.schedule().window());
        assertEquals(Duration.ofMinutes(15), s.schedule().resync());
        assertEquals(Duration.ofDays(3), s.alerts().heldBackAfter());
        assertEquals("[::1]:9464", s.controller().metricsAddress());
    }

    /** One named case per file under invalid/: its "# expect:" lines are the exact problems, in order. */
    @TestFactory
    Stream<DynamicTest> malformedFilesReportExactProblems() throws IOException, URISyntaxException {
        Path cases = Path.of(getClass().getResource("/invalid").toURI());
        List<Path> files;
        try (Stream<Path> s = Files.list(cases)) {
            files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertTrue(files.size() >= 20, "at least 20 malformed cases, found " + files.size());
        return files.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> {
            List<String> expected = new ArrayList<>();
            for (String line : Files.readAllLines(f)) {
                if (line.startsWith("# expect: ")) expected.add(f + ":" + line.substring("# expect: ".length()));
            }
            assertFalse(expected.isEmpty(), "no '# expect:' line in " + f);
            assertEquals(expected, problems(f));
        }));
    }

    @Test
    void problemPrintsLikeACompiler() {
        Problem p = new Problem(Path.of("/etc/t3/desired.yaml"), 3, 5, "healthCheck.pairingEndpoints[1]", "must start with /");
        assertEquals("/etc/t3/desired.yaml:3:5: healthCheck.pairingEndpoints[1]: must start with /", p.toString());
        InvalidDesiredStateException e = new InvalidDesiredStateException(List.of(p, new Problem(Path.of("f"), 1, 1, "(document)", "x")));
        assertEquals(p + "\nf:1:1: (document): x", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new InvalidDesiredStateException(List.of()));
    }

    @Test
    void allProblemsAreReportedInFileOrder() throws Exception {
        Path f = write("many.yaml", "track: beta\nusers: [Alice]\ninstall: {timeout: 0s, keepVersions: 0}\nbogus: 1\n");
        assertEquals(List.of(
                f + ":1:8: track: 'beta' is not a channel (expected nightly or latest)",
                f + ":2:9: users[0]: 'Alice' is not a valid user name (lowercase letters, digits, _ and -, starting with a letter or _, at most 32)",
                f + ":3:20: install.timeout: must be positive (got '0s')",
                f + ":3:38: install.keepVersions: must be from 2 to 100 (got 0)",
                f + ":4:1: bogus: unknown key (known keys: package, track, pin, freeze, users, usersFile, unit, database, install, backup,"
                        + " healthCheck, canary, schedule, breaker, alerts, controller, fleet)"),
                problems(f));
    }

    @Test
    void candidateCodeNeverRunsAsRoot() throws Exception {
        Path f = write("root.yaml", "users: [alice]\ninstall: {user: root}\n");
        assertEquals(List.of(f + ":2:17: install.user: 'root' may not run candidate code; name a dedicated unprivileged account"), problems(f));
    }

    @Test
    void emptyFileOnlyLacksUsers() throws Exception {
        Path f = write("empty.yaml", "");
        assertEquals(List.of(f + ":1:1: users: no users: list them under users or in usersFile"), problems(f));
        Path comments = write("comments.yaml", "# nothing yet\n\n");
        assertEquals(List.of(comments + ":1:1: users: no users: list them under users or in usersFile"), problems(comments));
    }

    @Test
    void usersFileIsMergedAfterTheListedUsers() throws Exception {
        Path map = write("users.map", """
                # authentik login = OS account
                alice@corp.example=alice

                  carol.c@corp.example = carol\r
                dave=dave
                """);
        DesiredState s = parse("users: [alice, bob]\nusersFile: " + map + "\n");
        assertEquals(List.of(new User("alice", "alice@corp.example"), User.of("bob"), new User("carol", "carol.c@corp.example"), User.of("dave")), s.users());
        assertEquals(Optional.of(map), s.usersFile());
        DesiredState fileOnly = parse("usersFile: " + map + "\n");
        assertEquals(List.of("alice", "carol", "dave"), fileOnly.users().stream().map(User::name).toList());
    }

    @Test
    void usersFileErrorsNameThatFileAndLine() throws Exception {
        Path map = write("users.map", """
                # comment
                alice@corp.example=alice
                no equals sign here
                bob@corp.example=Bob
                bad login=bob
                other@corp.example=alice
                alice@corp.example=carol
                x=  dave!
                """);
        Path f = write("desired.yaml", "users:\n  - name: erin\n    login: erin@corp\nusersFile: " + map + "\n");
        assertEquals(List.of(
                map + ":3:1: usersFile: expected authentik_login=os_user, got 'no equals sign here'",
                map + ":4:18: usersFile: 'Bob' is not a valid user name (lowercase letters, digits, _ and -, starting with a letter or _, at most 32)",
                map + ":5:1: usersFile: 'bad login' is not a valid login (letters, digits, . _ @ -; at most 128)",
                map + ":6:20: usersFile: user 'alice' is mapped twice (first at line 2); one login per user",
                map + ":7:1: usersFile: login 'alice@corp.example' is already the login of user 'alice'",
                map + ":8:5: usersFile: 'dave!' is not a valid user name (lowercase letters, digits, _ and -, starting with a letter or _, at most 32)"),
                problems(f));
    }

    @Test
    void usersFileMayNotOverrideAnExplicitLogin() throws Exception {
        Path map = write("users.map", "other@corp=erin\n");
        Path f = write("desired.yaml", "users:\n  - {name: erin, login: erin@corp}\nusersFile: " + map + "\n");
        assertEquals(List.of(map + ":1:1: usersFile: user 'erin' already has login 'erin@corp' in users (line 2)"), problems(f));
    }

    @Test
    void missingOrRelativeUsersFileIsReportedWhereItIsNamed() throws Exception {
        Path missing = dir.resolve("nope.map");
        Path f = write("desired.yaml", "users: [alice]\nusersFile: " + missing + "\n");
        assertEquals(List.of(f + ":2:12: usersFile: " + missing + " cannot be read: no such file"), problems(f));
        Path g = write("relative.yaml", "users: [alice]\nusersFile: users.map\n");
        assertEquals(List.of(g + ":2:12: usersFile: 'users.map' is not an absolute path"), problems(g));
        Path big = write("big.map", "a=alice\n".repeat(140_000));
        Path h = write("big.yaml", "usersFile: " + big + "\n");
        assertEquals(List.of(h + ":1:12: usersFile: " + big + " is larger than 1 MiB"), problems(h));
    }

    @Test
    void aliasBombIsRejectedWithoutExpansion() {
        StringBuilder y = new StringBuilder("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (int i = 1; i < 10; i++) {
            y.append("a").append(i).append(": &a").append(i).append(" [");
            for (int j = 0; j < 9; j++) y.append(j == 0 ? "" : ", ").append("*a").append(i - 1);
            y.append("]\n");
        }
        y.append("users: [alice]\n");
        InvalidDesiredStateException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> assertThrows(InvalidDesiredStateException.class, () -> DesiredStateLoader.parse(y.toString(), Path.of("bomb.yaml"))));
        assertEquals("bomb.yaml:1:5: a0: YAML anchors are not allowed (&a0)", e.problems().get(1).toString());
        assertTrue(e.getMessage().contains("bomb.yaml:2:10: a1[0]: YAML aliases are not allowed (*a0); write the value out"), e.getMessage());
        assertEquals(10 + 81 + 10, e.problems().size(), e.getMessage()); // 10 unknown keys, 81 aliases, 10 anchors
    }

    @Test
    void oversizeIsRejectedBeforeParsing() throws Exception {
        String big = "users: [alice]\n" + "# padding\n".repeat(110_000);
        InvalidDesiredStateException e = assertThrows(InvalidDesiredStateException.class, () -> DesiredStateLoader.parse(big, Path.of("big.yaml")));
        assertEquals(List.of("big.yaml:1:1: (document): file is larger than 1 MiB"), e.problems().stream().map(Problem::toString).toList());
        Path f = write("big.yaml", big);
        assertEquals(List.of(f + ":1:1: (document): file is larger than 1 MiB"), problems(f));
    }

    @Test
    void deepFlowNestingFailsFast() {
        String deep = "users: [alice]\nx: " + "[".repeat(500_000) + "\n";
        InvalidDesiredStateException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> assertThrows(InvalidDesiredStateException.class, () -> DesiredStateLoader.parse(deep, Path.of("deep.yaml"))));
        assertEquals(List.of("deep.yaml:2:11: x[0][0][0][0][0][0][0]: nested deeper than 8 levels"), e.problems().stream().map(Problem::toString).toList());
    }

    @Test
    void unreadableFilesAreProblemsToo() throws Exception {
        Path missing = dir.resolve("missing.yaml");
        assertEquals(List.of(missing + ":1:1: (document): file cannot be read: no such file"), problems(missing));
        Path latin1 = dir.resolve("latin1.yaml");
        Files.write(latin1, "users: [j\u00f6rg]\n".getBytes(StandardCharsets.ISO_8859_1));
        assertEquals(List.of(latin1 + ":1:1: (document): file is not UTF-8 text"), problems(latin1));
        Path zero = Path.of("/dev/zero");
        if (Files.exists(zero)) assertEquals(List.of(zero + ":1:1: (document): file is larger than 1 MiB"), problems(zero));
        assertEquals(List.of(dir + ":1:1: (document): file cannot be read: Is a directory"), problems(dir));
        Path nul = write("nul.yaml", "users: [alice]\npackage: \"t3\u0000\"\n");
        assertEquals(List.of(nul + ":2:13: (document): invalid YAML: character U+0000 is not allowed"), problems(nul));
    }

    @Test
    void byteOrderMarkIsIgnored() throws Exception {
        assertEquals(List.of(User.of("alice")), parse("\uFEFFusers: [alice]\n").users());
    }

    @Test
    void notesExplainSurprisingButValidSettings() throws Exception {
        DesiredState s = parse("users: [alice]\ntrack: nightly\npin: 0.0.25\nfreeze: true\nschedule: {window: '03:00-03:30', resync: 1h}\n");
        assertEquals(List.of(
                "pin 0.0.25 overrides track nightly: new nightly releases are not followed",
                "freeze is on: no bump will start until it is set to false",
                "schedule.resync 1h is longer than the window 03:00-03:30: a pass may not fall inside it on every day",
                "alerts.webhook is not set: alerts go to the journal only",
                "only one user: the canary and the rest of the rollout are the same person"), DesiredStateLoader.notes(s));
        DesiredState quiet = parse("users: [alice, bob]\npin: 0.0.25\nalerts: {webhook: 'https://h.example.com/'}\n");
        assertEquals(List.of("pin 0.0.25 overrides track nightly (the default): new nightly releases are not followed"), DesiredStateLoader.notes(quiet));
        assertEquals(List.of(), DesiredStateLoader.notes(parse("users: [alice, bob]\nalerts: {webhook: 'https://h.example.com/'}\n")));
    }

    @Test
    void knownKeysCoverEverySection() {
        assertTrue(DesiredStateLoader.knownKeys().containsAll(List.of("package", "users[].login", "install.keepVersions", "install.user",
                "healthCheck.migrationFailurePatterns", "controller.bus", "schedule.zone", "breaker.maxWait", "alerts.heldBackAfter")));
        assertEquals(17 + 2 + 7 + 3 + 7 + 5 + 3 + 3 + 3 + 5 + 8 + 3 + 2 /* canary.approval, canary.pauseAfter */, DesiredStateLoader.knownKeys().size());
    }

    @Test
    void approvalGateIsReadAndBadValuesNameLineAndField() throws Exception {
        DesiredState s = parse("users: [alice]\ncanary: {approval: manual, pauseAfter: 2}\n");
        assertEquals(DesiredState.Approval.MANUAL, s.canary().approval());
        assertEquals(Optional.of(2), s.canary().pauseAfter());
        DesiredState d = parse("users: [alice]\n");
        assertEquals(DesiredState.Approval.AUTO, d.canary().approval());
        assertEquals(Optional.empty(), d.canary().pauseAfter());
        List<String> bad = problems(write("bad.yaml", "users: [alice]\ncanary:\n  approval: later\n  pauseAfter: 0\n"));
        assertEquals(2, bad.size(), bad.toString());
        assertTrue(bad.get(0).contains("bad.yaml:3:13: canary.approval: "), bad.toString());
        assertTrue(bad.get(0).contains("expected auto or manual"), bad.toString());
        assertTrue(bad.get(1).contains("bad.yaml:4:15: canary.pauseAfter: must be from 1 to 10000"), bad.toString());
    }

    private DesiredState parse(String yaml) throws InvalidDesiredStateException {
        return DesiredStateLoader.parse(yaml, dir.resolve("desired.yaml"));
    }

    private Path write(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    private static List<String> problems(Path f) {
        InvalidDesiredStateException e = assertThrows(InvalidDesiredStateException.class, () -> DesiredStateLoader.load(f));
        return e.problems().stream().map(Problem::toString).toList();
    }
}
