package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import t3.reconciler.controller.actuator.UnitStatus;
import t3.reconciler.controller.actuator.backup.SqliteBackups;
import t3.reconciler.controller.actuator.proc.ProcessStamp;
import t3.reconciler.controller.actuator.systemd.DbusUnits;
import t3.reconciler.controller.cli.Main;
import t3.reconciler.controller.store.Activation;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.controller.testbed.RegistryBed;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.BreakerState;
import t3.reconciler.model.Version;

/**
 * The crash-point matrix on the real test bed. For each row, the controller is started as a subprocess with
 * {@code T3R_CRASH_AT=<point>} and must die exactly there (exit 137, the {@code crash-point} line), or, for
 * {@code inside-npm}, is SIGKILLed by the test while npm runs a build's preinstall; then {@code run --once} is run
 * again, without the variable, until it is done, and the machine must be in a correct state:
 * (a) the new version verified everywhere, or the old one restored everywhere, or (a deliberate downgrade, an
 * operator's rollback) the older version everywhere with each database as its newest backup on it, and no npm stage
 * or half-deleted prefix left beside the releases; (b) no database
 * lost or newer than the binary its unit runs, every thread it had still in it or in an archive of what a restore
 * replaced, and a replaced one archived; (c) every backup a
 * rollback could still need is there and matches its sha256 sidecar; (d) the event log has a recovery event naming
 * the interrupted step; (e) for {@code during-health-check}, the throwaway server the crashed run journaled is gone.
 *
 * <p>One bed serves every row, in order: a GOOD or ROLLBACK row publishes a strictly newer build and bumps to it from
 * the previous row's outcome; a DOWNGRADE row pins, and an OPERATOR row runs {@code rollback --to}, the version the
 * last GOOD row bumped from. Speed (the class must stay within minutes on a loaded 2-core machine): the builds are
 * published ahead, in the background, while earlier rows run; each row pins its build ({@code pin:} in the
 * desired-state file, the same bump path as a moved tag) so that a pass does not run {@code npm view} before every
 * step; and the subprocess JVM runs with C1 only and the serial GC (its start-up dominates a short run). Good rows
 * bump to a {@code good} build (the schema grows 4 → 5 → 6, so restarts really migrate, and going back really
 * restores an older schema); rollback rows bump to a {@code migration-fails-archived} build that passes the health
 * check on alice's data and fails bob's canary (bob archived a thread); after a rollback or an operator's rollback
 * the CLI's {@code unfreeze} resets the breaker and the freeze. Each row's checks are collected, the whole matrix is
 * printed and written to {@code controller/target/crash-matrix.md}, and the test fails with the whole table if any
 * row failed.
 */
class CrashMatrixIT {
    static final String U1 = "t3x-alice", U2 = "t3x-bob";
    static final List<String> USERS = List.of(U1, U2);
    static final Version V0 = Version.parse("0.0.25-nightly.20260601.1");
    /** A bound on a run that should take seconds: only a hung controller reaches it. */
    static final Duration RUN_TIMEOUT = Duration.ofSeconds(240);
    /** Restarts after the crash before a row counts as not converging. */
    static final int MAX_RESTARTS = 4;
    static final ObjectMapper JSON = new ObjectMapper();

    /**
     * GOOD bumps to a good build; ROLLBACK bumps to one that fails bob's canary and is rolled back; DOWNGRADE pins the
     * version the current one was bumped from (a deliberate downgrade: link back, each database restored from a
     * backup taken on it); OPERATOR runs {@code rollback --to} that version instead (the crash lands in the command).
     */
    enum Kind {
        GOOD, ROLLBACK, DOWNGRADE, OPERATOR,
        /**
         * Issue 15: a build that migrates and then dies under systemd; the controller is first stopped right after the
         * switch (a crash at after-activate), alice's unit is restarted outside it (down on the build), then bob's canary
         * fails: the two who are down are restored as one batch ({@code restore-down}), where this row's crash lands.
         */
        DOWN;

        boolean publishes() { return this == GOOD || this == ROLLBACK || this == DOWN; }

        boolean rollsBack() { return this == ROLLBACK || this == DOWN; }

        boolean goesBack() { return this == DOWNGRADE || this == OPERATOR; }
    }

    /** Not a crash point: the test itself SIGKILLs the controller while npm runs the slow-install build's preinstall. */
    static final String INSIDE_NPM = "inside-npm";

    /** @param schema the stand-in's schema level baked into the row's build (GOOD and ROLLBACK rows) */
    record Row(String point, Kind kind, int schema, String step) {}

    static final List<Row> ROWS = List.of(
            new Row("after-backup", Kind.GOOD, 5, "backup"),
            new Row("mid-install", Kind.GOOD, 5, "install"),
            new Row(INSIDE_NPM, Kind.GOOD, 5, "install"),
            new Row("after-install", Kind.GOOD, 5, "install"),
            // the throwaway server is up and journaled: Recovery must kill it (check e)
            new Row("during-health-check", Kind.GOOD, 5, "health-check"),
            // the current build is at schema 5 here: the DOWN builds really migrate (to 6) before they die
            new Row("mid-restore-down", Kind.DOWN, 6, "restore-down " + U1 + "," + U2),
            new Row("after-restore-down", Kind.DOWN, 6, "restore-down " + U1 + "," + U2),
            new Row("restore-archived", Kind.DOWNGRADE, 0, "restore " + U1),
            new Row("before-activate", Kind.GOOD, 6, "activate"),
            new Row("after-activate", Kind.DOWNGRADE, 0, "activate"),
            new Row("after-activate", Kind.GOOD, 6, "activate"),
            new Row("after-activate", Kind.OPERATOR, 0, "activate"),
            new Row("after-restart-" + U1, Kind.GOOD, 6, "canary " + U1),
            new Row("restore-archived", Kind.OPERATOR, 0, "restore " + U1),
            new Row("after-restart-" + U2, Kind.GOOD, 6, "canary " + U2),
            new Row("after-restore-" + U1, Kind.DOWNGRADE, 0, "restore " + U1),
            new Row("before-last-good", Kind.GOOD, 6, "promote"),
            new Row("before-last-good", Kind.OPERATOR, 0, "promote"),
            new Row("after-open-breaker", Kind.ROLLBACK, 6, "open-breaker"),
            new Row("after-rollback-binary", Kind.ROLLBACK, 6, "rollback-binary"),
            // bob's canary leaves his server down, so his restore comes first (issue 15): the first restore is bob's
            new Row("mid-restore", Kind.ROLLBACK, 6, "restore " + U2),
            new Row("restore-archived", Kind.ROLLBACK, 6, "restore " + U2),
            new Row("after-restore-" + U1, Kind.ROLLBACK, 6, "restore " + U1),
            // bob's server dies on the failing migration right after this restart; the pass that would have caught it is the one killed
            new Row("after-restart-" + U2, Kind.ROLLBACK, 6, "canary " + U2));

    static Bed bed;
    /** The newest migration id each published build knows (what a database may be at under it). */
    static final Map<Version, Integer> SUPPORTS = new HashMap<>(Map.of(V0, 4));
    static final Map<Version, String> LABEL = new LinkedHashMap<>(Map.of(V0, "V0"));

    @BeforeAll
    static void up() throws Exception {
        bed = Bed.fresh(U1, U2);
    }

    @AfterAll
    static void down() throws Exception {
        if (bed != null) bed.close();
    }

    @Test
    void everyCrashPointRecoversToACorrectState() throws Exception {
        long t0 = System.nanoTime();
        Map<Integer, Version> versions = new HashMap<>();
        int n = 0;
        for (int i = 0; i < ROWS.size(); i++) {
            Row row = ROWS.get(i);
            if (!row.kind.publishes()) continue;
            Version v = Version.parse(String.format("0.0.27-nightly.202607%02d.1", ++n));
            versions.put(i, v);
            LABEL.put(v, "V" + n);
            SUPPORTS.put(v, row.kind == Kind.ROLLBACK ? row.schema + 1 : row.schema); // the failing migration is one more
        }
        // -DcrashMatrix.rows=3,13 runs only those rows (1-based), to reproduce one quickly; by default all. A DOWNGRADE
        // or OPERATOR row goes back to the version the last GOOD row bumped from, so select one with a GOOD row before it.
        Set<Integer> only = new TreeSet<>();
        for (String s : System.getProperty("crashMatrix.rows", "").split(",")) if (!s.isBlank()) only.add(Integer.parseInt(s.strip()));
        ExecutorService publisher = Executors.newSingleThreadExecutor();
        Map<Integer, Future<?>> published = new HashMap<>();
        for (int i = 0; i < ROWS.size(); i++) {
            Row row = ROWS.get(i);
            if (!only.isEmpty() && !only.contains(i + 1)) continue;
            if (!row.kind.publishes()) {
                published.put(i, java.util.concurrent.CompletableFuture.completedFuture(null));
                continue;
            }
            Version v = versions.get(i);
            String flavor = row.kind == Kind.ROLLBACK ? "migration-fails-archived" : row.kind == Kind.DOWN ? "migrate-then-crash-under-systemd"
                    : row.point.equals(INSIDE_NPM) ? "slow-install" : "good";
            published.put(i, publisher.submit(() -> {
                publish(v, flavor, row.schema);
                return null;
            }));
        }
        publisher.shutdown();
        // A clean pass first: it takes the day's backups and adopts V0, so the rows below crash in the bump itself.
        assertEquals(Main.OK, Main.run("run", "--once", "-f", bed.spec.toString()), "the bed converges on " + V0);
        List<String> table = new ArrayList<>();
        boolean allOk = true;
        Version current = V0;
        Optional<Version> bumpedFrom = Optional.empty();
        boolean archived = false;
        for (int i = 0; i < ROWS.size(); i++) {
            Row row = ROWS.get(i);
            if (!published.containsKey(i)) continue;
            Version v = row.kind.publishes() ? versions.get(i) : bumpedFrom.orElse(null);
            long rowStart = System.nanoTime();
            List<String> problems = new ArrayList<>();
            String outcome;
            try {
                if (v == null) throw new IllegalStateException("no earlier version to go back to: run a GOOD row before row " + (i + 1));
                if (row.kind == Kind.ROLLBACK && !archived) {
                    bed.archiveThread(U2); // bob now has data the rollback builds' migration trips over
                    archived = true;
                }
                published.get(i).get(180, TimeUnit.SECONDS);
                if (row.kind != Kind.OPERATOR) pin(v); // the operator's rollback overrides the pin, which stays on the current version
                outcome = runRow(i, row, current, v, problems);
                if (row.kind.rollsBack() || row.kind == Kind.OPERATOR) {
                    assertEquals(Main.OK, Main.run("unfreeze", "-f", bed.spec.toString(), "--reason", "crash matrix: next row"), "unfreeze");
                }
                if (row.kind == Kind.GOOD) {
                    bumpedFrom = Optional.of(current);
                    current = v;
                } else if (row.kind.goesBack()) {
                    current = v;
                }
            } catch (Exception | AssertionError e) {
                outcome = "error: " + e;
                problems.add(String.valueOf(e.getMessage()));
            }
            long secs = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - rowStart);
            allOk &= problems.isEmpty();
            table.add("| " + (i + 1) + " | `" + row.point + "` | " + describe(row, v) + " | "
                    + cell(outcome) + " | " + (problems.isEmpty() ? "a b c d" + (row.point.equals("during-health-check") ? " e" : "") + " ok" : "**FAIL**: " + cell(String.join("; ", problems))) + " | " + secs + " s |");
        }
        long total = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
        String md = "# Crash-point matrix\n\n" + "Users alice, bob (`t3x-`); V0 = " + V0 + ", the n-th published build Vn = 0.0.27-nightly.202607nn.1. "
                + "Checks: (a) converged (new verified everywhere / old restored everywhere / the older version restored everywhere; no npm stage left), "
                + "(b) no DB lost or newer than its binary, no thread lost (in the DB or in an archive of what a restore replaced), (c) rollback backups kept and sha256-verified, "
                + "(d) a recovery event names the interrupted step, (e) the health-check server the crashed run started is gone.\n\n"
                + "| # | crash point | row | outcome | checks | time |\n|---|---|---|---|---|---|\n" + String.join("\n", table) + "\n\n"
                + "Wall time of the matrix (without bed setup): " + total + " s; load average at the end (2 cores, shared): "
                + Files.readString(Path.of("/proc/loadavg")).strip() + "\n";
        System.out.println(md);
        Path out = Bed.repoRoot().resolve("controller/target/crash-matrix.md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, md);
        publisher.shutdownNow();
        if (!allOk) fail("crash matrix has failing rows:\n" + md);
    }

    static String describe(Row row, Version v) {
        String l = v == null ? "?" : LABEL.get(v);
        return switch (row.kind) {
            case GOOD -> l + " good" + (row.point.equals(INSIDE_NPM) ? " (slow preinstall)" : "");
            case ROLLBACK -> l + " fails bob's canary";
            case DOWN -> l + " dies under systemd; alice restarted onto it outside the controller";
            case DOWNGRADE -> "pin " + l + " (downgrade)";
            case OPERATOR -> "`rollback --to " + l + "`";
        };
    }

    /** One row: crash at the point, restart until done, check a-d. Returns the outcome cell; adds failed checks to problems. */
    private String runRow(int i, Row row, Version from, Version v, List<String> problems) throws Exception {
        Snapshot before = snapshot();
        Run crash;
        if (row.point.equals(INSIDE_NPM)) {
            crash = killInsideNpm(v, (i + 1) + "-crash", problems);
        } else {
            if (row.kind == Kind.DOWN) leaveAliceDownOn(i, v, problems);
            List<String> args = row.kind == Kind.OPERATOR ? List.of("rollback", "--to", v.toString()) : List.of("run", "--once");
            crash = controller(row.point, (i + 1) + "-crash", args);
            if (crash.exit != 137 || !crash.crashedAt(row.point)) {
                problems.add("did not die at " + row.point + " (exit " + crash.exit + ", see " + crash.log + ")");
            }
        }
        // What the crashed run journaled as its throwaway health-check server: after recovery it must be gone.
        Optional<ProcessStamp> server = journaledServer();
        if (row.point.equals("during-health-check") && server.isEmpty()) problems.add("(e) the crashed run journaled no health-check server");
        long crashEvents = maxEventId();
        List<Run> restarts = new ArrayList<>();
        boolean done = false;
        while (!done && restarts.size() < MAX_RESTARTS) {
            Run r = controller(null, (i + 1) + "-restart-" + (restarts.size() + 1), List.of("run", "--once"));
            restarts.add(r);
            done = r.exit == Main.OK || (r.exit == Main.REFUSED && rolloutFinished());
        }
        if (!done) problems.add("not done after " + restarts.size() + " restarts (exits " + restarts.stream().map(r -> String.valueOf(r.exit)).toList() + ", see " + restarts.get(restarts.size() - 1).log + ")");
        server.flatMap(ProcessStamp::alive).ifPresent(p -> problems.add("(e) the crashed run's health-check server (pid " + p.pid() + ") still runs after recovery"));

        List<Ev> crashRun = events(before.maxEvent, crashEvents), after = events(crashEvents, Long.MAX_VALUE);
        Expect expect = row.kind.rollsBack() ? Expect.OLD : Expect.NEW;
        checkConverged(expect, from, v, problems);
        if (row.kind.goesBack()) checkWentBack(before, v, problems);
        checkDatabases(before, problems);
        checkBackups(before, !row.kind.goesBack(), problems);
        // (d) the first thing the restarted controller records is what it found interrupted
        Optional<Ev> recover = after.stream().filter(e -> e.action.equals("recover")).findFirst();
        if (recover.isEmpty()) problems.add("(d) no recovery event after the crash");
        else if (!recover.get().target.startsWith(row.step)) problems.add("(d) recovery event names '" + recover.get().target + "', not the interrupted " + row.step);

        String lastStep = crashRun.stream().filter(e -> !e.action.startsWith("hold") && !e.action.equals("recover")).reduce((a, b) -> b).map(Ev::brief).orElse("nothing");
        String steps = String.join(", ", after.stream().filter(e -> !e.action.startsWith("hold") && !e.action.equals("converged")).map(Ev::brief).toList());
        String end = row.kind.goesBack() ? (lastGood().equals(Optional.of(v)) ? "back on " + LABEL.get(v) : "not back on " + LABEL.get(v))
                : lastGood().equals(Optional.of(v)) ? "converged on " + LABEL.get(v) : "rolled back to " + LABEL.get(from) + ", " + LABEL.get(v) + " blocked";
        String where = row.point.equals(INSIDE_NPM) ? "killed inside npm" : "crashed at " + row.point;
        return where + " (after: " + lastStep + "); " + (restarts.size() == 1 ? "restart" : restarts.size() + " restarts") + ": " + steps + "; " + end;
    }

    /**
     * The slow-install build's preinstall records itself and then waits while a "hold" file exists: once its record
     * appears (an inotify watch, bounded), npm is surely running, and the controller gets a real SIGKILL. Then, as
     * systemd does for a unit whose main process died, what the controller had started is not left to race the
     * restarted one: the hold is released and the run's leftover processes are waited for (bounded).
     */
    private Run killInsideNpm(Version v, String name, List<String> problems) throws Exception {
        Path rec = RegistryBed.recordDir(v.toString());
        Path hold = Files.createFile(rec.resolve("hold"));
        Path log = bed.dir.resolve("runs/" + name + ".log");
        Process p;
        List<ProcessHandle> leftovers = List.of();
        try (WatchService ws = FileSystems.getDefault().newWatchService()) {
            rec.register(ws, StandardWatchEventKinds.ENTRY_CREATE);
            p = start(null, log, List.of("run", "--once"));
            long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
            while (!preinstallRecorded(rec) && p.isAlive() && System.nanoTime() < deadline) {
                WatchKey k = ws.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (k != null) {
                    k.pollEvents();
                    k.reset();
                }
            }
            if (!preinstallRecorded(rec)) problems.add("npm never ran the slow build's preinstall (controller " + (p.isAlive() ? "still running" : "exit " + p.exitValue()) + ", see " + log + ")");
            leftovers = p.descendants().toList();
            if (!leftovers.stream().anyMatch(h -> h.info().commandLine().orElse("").contains("npm"))) problems.add("no npm process under the controller when it was killed: " + leftovers.stream().map(h -> h.info().commandLine().orElse("?")).toList());
            p.destroyForcibly(); // SIGKILL
            p.waitFor(30, TimeUnit.SECONDS);
        } finally {
            Files.deleteIfExists(hold);
        }
        for (ProcessHandle h : leftovers) {
            try {
                h.onExit().get(120, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                problems.add("the killed run's " + h.info().commandLine().orElse("process " + h.pid()) + " did not end within 120 s of its hold being released");
            }
        }
        if (p.isAlive() || p.exitValue() != 137) problems.add("the controller did not die of the SIGKILL (" + (p.isAlive() ? "alive" : "exit " + p.exitValue()) + ")");
        return new Run(p.isAlive() ? -1 : p.exitValue(), Files.readAllLines(log, StandardCharsets.UTF_8), log);
    }

    /**
     * A DOWN row's setup: the controller dies right after switching the link to {@code v}, and alice's unit is restarted
     * onto it by someone else ({@code systemctl --wait restart} returns once its process has ended again): her
     * database migrated, her server down, before any canary.
     */
    private void leaveAliceDownOn(int i, Version v, List<String> problems) throws Exception {
        Run activate = controller("after-activate", (i + 1) + "-activate", List.of("run", "--once"));
        if (activate.exit != 137 || !activate.crashedAt("after-activate")) problems.add("setup: did not die at after-activate (exit " + activate.exit + ", see " + activate.log + ")");
        OptionalInt exit = bed.waitRestart(unit(U1));
        if (exit.isEmpty()) {
            problems.add("setup: systemctl --wait restart " + unit(U1) + " did not return in 60 s");
        } else if (exit.getAsInt() == 0) {
            problems.add("setup: " + unit(U1) + " did not fail on " + LABEL.get(v));
        }
    }

    private static boolean preinstallRecorded(Path rec) throws IOException {
        try (var files = Files.list(rec)) {
            return files.anyMatch(f -> f.getFileName().toString().startsWith("preinstall."));
        }
    }

    /** The server a journaled health check started (pid and start time), if the journal names one. */
    static Optional<ProcessStamp> journaledServer() throws Exception {
        Set<String> detail = column(bed.stateDb(), "SELECT detail FROM journal WHERE action = 'health-check'");
        if (detail.isEmpty()) return Optional.empty();
        JsonNode d = JSON.readTree(detail.iterator().next());
        if (!d.has("serverPid")) return Optional.empty();
        return Optional.of(new ProcessStamp(d.get("serverPid").asLong(), d.get("serverStartTicks").asLong()));
    }

    /**
     * A downgrade or an operator's rollback: each database holds what the newest verified backup on the target held
     * before the row (its migrations), and the database it replaced was archived, not deleted.
     */
    private void checkWentBack(Snapshot before, Version target, List<String> problems) throws Exception {
        for (String u : USERS) {
            BackupInfo from = before.newestOn.get(u).get(target);
            if (from == null) {
                problems.add("(a) " + u + " had no verified backup on " + LABEL.get(target) + " before the row");
                continue;
            }
            Set<String> want = column(from.path(), "SELECT migration_id FROM effect_sql_migrations");
            Set<String> got = column(bed.database(u), "SELECT migration_id FROM effect_sql_migrations");
            if (!want.equals(got)) problems.add("(a) " + u + " migrations " + got + ", the backup on " + LABEL.get(target) + " has " + want);
            Path archive = bed.dir.resolve("backups").resolve(u).resolve("archive");
            long archives;
            try (var s = Files.list(archive)) {
                archives = s.count();
            } catch (IOException e) {
                archives = 0;
            }
            if (archives <= before.archives.getOrDefault(u, 0L)) problems.add("(b) " + u + "'s replaced database was not archived (" + archives + " archives)");
        }
    }

    enum Expect { NEW, OLD }

    /** (a) new verified everywhere, or old restored everywhere; the rollout is closed either way. */
    private void checkConverged(Expect expect, Version from, Version v, List<String> problems) throws Exception {
        Version on = expect == Expect.NEW ? v : from;
        Path link = Files.readSymbolicLink(bed.link());
        // An install the crash cut short (its npm stage, a prefix being deleted) is never left beside the releases.
        try (var entries = Files.list(bed.dir.resolve("versions"))) {
            List<String> leftovers = entries.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).toList();
            if (!leftovers.isEmpty()) problems.add("(a) left in versions/: " + leftovers);
        }
        if (!link.equals(bed.dir.resolve("versions/" + on + "/bin/t3"))) problems.add("(a) link -> " + link + ", expected " + LABEL.get(on));
        try (StateStore store = StateStore.open(bed.stateDb()); DbusUnits units = new DbusUnits(bed.bus(), Duration.ofSeconds(2))) {
            if (!store.lastGood().equals(Optional.of(on))) problems.add("(a) last-good is " + store.lastGood().map(LABEL::get).orElse("none") + ", expected " + LABEL.get(on));
            if (store.rollout().isPresent()) problems.add("(a) a rollout is still in progress: " + store.rollout().get());
            if (!store.journal().isEmpty()) problems.add("(a) journal not empty: " + store.journal().get());
            Instant switched = lastActivation(store.activations(), on);
            for (String u : USERS) {
                UnitStatus s = units.status(unit(u));
                if (!s.active()) problems.add("(a) " + u + " is " + s.activeState());
                if (expect == Expect.NEW && s.execMainStart().map(t -> !t.isAfter(switched)).orElse(true)) {
                    problems.add("(a) " + u + " started " + s.execMainStart().orElse(null) + ", not after the switch to " + LABEL.get(on) + " at " + switched);
                }
            }
            if (expect == Expect.OLD) {
                BreakerState b = store.breaker();
                if (b.status() != BreakerState.Status.OPEN || !b.version().equals(Optional.of(v))) problems.add("(a) breaker " + b.status() + " on " + b.version());
                if (!store.blocked().contains(v)) problems.add("(a) " + LABEL.get(v) + " not blocked");
                if (!latestRolloutOutcome().equals("rolled-back")) problems.add("(a) the rollout ended " + latestRolloutOutcome());
                for (Map.Entry<String, Path> e : preBumpBackups().entrySet()) {
                    Set<String> want = column(e.getValue(), "SELECT migration_id FROM effect_sql_migrations");
                    Set<String> got = column(bed.database(e.getKey()), "SELECT migration_id FROM effect_sql_migrations");
                    if (!want.equals(got)) problems.add("(a) " + e.getKey() + " migrations " + got + ", pre-bump backup has " + want);
                }
            } else if (!latestRolloutOutcome().equals("succeeded")) {
                problems.add("(a) the rollout ended " + latestRolloutOutcome());
            }
        }
    }

    /** (b) every database is there, intact, keeps every thread it had, and is no newer than the build its unit runs. */
    private void checkDatabases(Snapshot before, List<String> problems) throws Exception {
        try (StateStore store = StateStore.open(bed.stateDb()); DbusUnits units = new DbusUnits(bed.bus(), Duration.ofSeconds(2))) {
            List<Activation> acts = store.activations();
            for (String u : USERS) {
                Path db = bed.database(u);
                if (!Files.isRegularFile(db)) {
                    problems.add("(b) " + u + "'s database is gone");
                    continue;
                }
                Set<String> integrity = column(db, "PRAGMA quick_check");
                if (!integrity.equals(Set.of("ok"))) problems.add("(b) " + u + "'s database fails quick_check: " + integrity);
                Set<String> threads = column(db, "SELECT id FROM projection_threads");
                Set<String> gone = new TreeSet<>(before.threads.get(u));
                gone.removeAll(threads);
                // A restore may take rows written after its backup away from the live database, never from the machine:
                // they must be in an archive of what it replaced.
                gone.removeAll(archivedThreads(u));
                if (!gone.isEmpty()) problems.add("(b) " + u + " lost threads " + gone + ": in neither the database nor an archive (had " + before.threads.get(u) + ", has " + threads + ")");
                int newest = column(db, "SELECT migration_id FROM effect_sql_migrations").stream().mapToInt(Integer::parseInt).max().orElse(0);
                Optional<Instant> started = units.status(unit(u)).execMainStart();
                Optional<Version> runs = started.flatMap(t -> acts.stream().filter(a -> !a.at().isAfter(t)).reduce((a, b) -> b)).map(Activation::version);
                if (runs.isEmpty()) problems.add("(b) cannot tell which build " + u + "'s unit runs");
                else if (newest > SUPPORTS.get(runs.get())) {
                    problems.add("(b) " + u + "'s database is at migration " + newest + ", newer than " + LABEL.get(runs.get()) + " (knows " + SUPPORTS.get(runs.get()) + ")");
                }
            }
        }
    }

    /** Threads in every archived database of the user (each read from a scratch copy with its WAL, so the archive is left as it is). */
    static Set<String> archivedThreads(String user) throws Exception {
        Set<String> out = new TreeSet<>();
        Path archives = bed.dir.resolve("backups").resolve(user).resolve("archive");
        if (!Files.isDirectory(archives)) return out;
        try (var dirs = Files.list(archives)) {
            for (Path a : dirs.toList()) {
                Path db = a.resolve("state.sqlite");
                if (!Files.isRegularFile(db)) continue;
                Path scratch = Files.createTempDirectory(bed.dir, "archived-");
                Files.copy(db, scratch.resolve("state.sqlite"));
                Path wal = a.resolve("state.sqlite-wal");
                if (Files.isRegularFile(wal)) Files.copy(wal, scratch.resolve("state.sqlite-wal"));
                try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + scratch.resolve("state.sqlite")); ResultSet r = c.createStatement().executeQuery("SELECT id FROM projection_threads")) {
                    while (r.next()) out.add(r.getString(1));
                }
            }
        }
        return out;
    }

    /**
     * (c) this bump's pre-bump backups, and the newest verified backup of last-good and of every version still
     * installed (each a rollback target), exist, are no older than before the row, and match their sidecars.
     */
    private void checkBackups(Snapshot before, boolean bump, List<String> problems) throws Exception {
        SqliteBackups backups = new SqliteBackups(bed.dir.resolve("backups"));
        Set<Version> targets = new TreeSet<>(installed());
        lastGood().ifPresent(targets::add);
        Map<String, Path> preBump = preBumpBackups();
        for (String u : USERS) {
            Path pre = preBump.get(u);
            if (!bump) {
                // a downgrade takes no pre-bump backup: what it replaces is archived (checkWentBack)
            } else if (pre == null) problems.add("(c) no pre-bump backup recorded for " + u);
            else if (!sidecarMatches(pre)) problems.add("(c) " + u + "'s pre-bump backup " + pre.getFileName() + " is gone or does not match its sidecar");
            List<BackupInfo> now = backups.list(u);
            for (Version t : targets) {
                Optional<BackupInfo> newest = now.stream().filter(b -> b.verified() && b.version().equals(t)).findFirst();
                BackupInfo had = before.newestOn.get(u).get(t);
                if (had == null) continue; // never had one (a version's first backup is taken when the next bump starts)
                if (newest.isEmpty()) problems.add("(c) " + u + " has no verified backup of rollback target " + LABEL.get(t) + " any more (had " + had.path().getFileName() + ")");
                else if (newest.get().takenAt().isBefore(had.takenAt())) problems.add("(c) " + u + "'s newest backup of " + LABEL.get(t) + " went back to " + newest.get().path().getFileName());
                else if (!sidecarMatches(newest.get().path())) problems.add("(c) " + u + "'s backup " + newest.get().path().getFileName() + " does not match its sha256 sidecar");
            }
        }
    }

    // -- the controller as a subprocess

    record Run(int exit, List<String> lines, Path log) {
        boolean crashedAt(String point) {
            return lines.stream().map(CrashMatrixIT::json).anyMatch(n -> n.path("event").asText().equals("crash-point") && n.path("point").asText().equals(point));
        }
    }

    /** {@code java -cp <this test's classpath> Main ARGS -f SPEC}, as DaemonIT spawns the daemon; output kept in a file. */
    static Run controller(String crashAt, String name, List<String> args) throws Exception {
        Path log = bed.dir.resolve("runs/" + name + ".log");
        Process p = start(crashAt, log, args);
        if (!p.waitFor(RUN_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            fail(String.join(" ", args) + " " + name + " did not finish in " + RUN_TIMEOUT.toSeconds() + " s; see " + log);
        }
        return new Run(p.exitValue(), Files.readAllLines(log, StandardCharsets.UTF_8), log);
    }

    static Process start(String crashAt, Path log, List<String> args) throws IOException {
        Files.createDirectories(log.getParent());
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), "t3.reconciler.controller.cli.Main"));
        cmd.addAll(args);
        cmd.addAll(List.of("-f", bed.spec.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("T3R_LOG", "json");
        pb.environment().remove("T3R_CRASH_AT");
        if (crashAt != null) pb.environment().put("T3R_CRASH_AT", crashAt);
        return pb.start();
    }

    static JsonNode json(String line) {
        try {
            return line.startsWith("{") ? JSON.readTree(line) : JSON.createObjectNode();
        } catch (IOException e) {
            return JSON.createObjectNode();
        }
    }

    // -- what is on the machine

    record Snapshot(long maxEvent, Map<String, Set<String>> threads, Map<String, Map<Version, BackupInfo>> newestOn, Map<String, Long> archives) {}

    static Snapshot snapshot() throws Exception {
        SqliteBackups backups = new SqliteBackups(bed.dir.resolve("backups"));
        Map<String, Set<String>> threads = new HashMap<>();
        Map<String, Map<Version, BackupInfo>> newest = new HashMap<>();
        Map<String, Long> archives = new HashMap<>();
        for (String u : USERS) {
            try (var s = Files.list(bed.dir.resolve("backups").resolve(u).resolve("archive"))) {
                archives.put(u, s.count());
            } catch (IOException e) {
                archives.put(u, 0L);
            }
            threads.put(u, column(bed.database(u), "SELECT id FROM projection_threads"));
            Map<Version, BackupInfo> m = new HashMap<>();
            for (BackupInfo b : backups.list(u)) if (b.verified()) m.putIfAbsent(b.version(), b); // list is newest first
            newest.put(u, m);
        }
        return new Snapshot(maxEventId(), threads, newest, archives);
    }

    record Ev(long id, String action, String target, String outcome) {
        /** "canary alice", "recovered 'activate V5'", "promote": short, with versions as labels. */
        String brief() {
            String t = target == null ? "" : target.replace("t3x-", "");
            for (Map.Entry<Version, String> e : LABEL.entrySet()) t = t.replace(e.getKey().toString(), e.getValue());
            String what = switch (action) {
                case "recover" -> "recovered '" + t + "'";
                case "canary", "verify" -> action + " " + t.replaceAll("@.*", "");
                case "backup", "restore" -> action + " " + t;
                default -> action;
            };
            return outcome.equals("ok") ? what : what + " (" + outcome + ")";
        }
    }

    static List<Ev> events(long after, long upTo) throws Exception {
        List<Ev> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + bed.stateDb() + "?mode=ro");
             var p = c.prepareStatement("SELECT id, action, target, outcome FROM event WHERE id > ? AND id <= ? ORDER BY id")) {
            p.setLong(1, after);
            p.setLong(2, upTo);
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) out.add(new Ev(r.getLong(1), r.getString(2), r.getString(3), r.getString(4)));
            }
        }
        return out;
    }

    static long maxEventId() throws Exception {
        return Long.parseLong(column(bed.stateDb(), "SELECT coalesce(max(id), 0) FROM event").iterator().next());
    }

    static boolean rolloutFinished() throws Exception {
        return column(bed.stateDb(), "SELECT count(*) FROM rollout WHERE finished_at IS NULL").equals(Set.of("0"));
    }

    static String latestRolloutOutcome() throws Exception {
        Set<String> s = column(bed.stateDb(), "SELECT coalesce(outcome, 'unfinished') FROM rollout ORDER BY id DESC LIMIT 1");
        return s.isEmpty() ? "none" : s.iterator().next();
    }

    /** This row's rollout's pre-bump backup per user. */
    static Map<String, Path> preBumpBackups() throws Exception {
        Map<String, Path> out = new HashMap<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + bed.stateDb() + "?mode=ro");
             ResultSet r = c.createStatement().executeQuery("SELECT user, backup FROM rollout_user WHERE backup IS NOT NULL AND rollout_id = (SELECT max(id) FROM rollout)")) {
            while (r.next()) out.put(r.getString(1), Path.of(r.getString(2)));
        }
        return out;
    }

    static Optional<Version> lastGood() {
        try (StateStore store = StateStore.open(bed.stateDb())) {
            return store.lastGood();
        }
    }

    /** Versions installed completely side by side (possible rollback targets). */
    static Set<Version> installed() throws IOException {
        Set<Version> out = new TreeSet<>();
        try (var dirs = Files.list(bed.dir.resolve("versions"))) {
            for (Path d : dirs.toList()) if (Files.exists(d.resolve(".t3-reconciler-complete"))) out.add(Version.parse(d.getFileName().toString()));
        }
        return out;
    }

    static Instant lastActivation(List<Activation> acts, Version v) {
        return acts.stream().filter(a -> a.version().equals(v)).map(Activation::at).reduce((a, b) -> b).orElse(Instant.MAX);
    }

    /** The sidecar is {@code sha256sum}'s format: the hash of the bytes, two spaces, the file name. */
    static boolean sidecarMatches(Path backup) throws Exception {
        Path side = backup.resolveSibling(backup.getFileName() + ".sha256");
        if (!Files.isRegularFile(backup) || !Files.isRegularFile(side)) return false;
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(backup)));
        return Files.readString(side, StandardCharsets.US_ASCII).strip().equals(sha + "  " + backup.getFileName());
    }

    static Set<String> column(Path db, String sql) throws Exception {
        Set<String> out = new TreeSet<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + db + "?mode=ro"); ResultSet r = c.createStatement().executeQuery(sql)) {
            while (r.next()) out.add(r.getString(1));
        }
        return out;
    }

    static String unit(String user) { return "t3-serve@" + user + ".service"; }

    static String cell(String s) { return s.replace("|", "\\|").replace("\n", " "); }

    /** Points the desired state at the row's build, written like an editor does (temp file, rename). */
    static void pin(Version v) throws IOException {
        String spec = Files.readString(bed.spec).replaceAll("(?m)^pin: .*\n", "");
        String pinned = spec.replaceFirst("(?m)^(track: .*\n)", "$1pin: " + v + "\n");
        if (pinned.equals(spec)) fail("no 'track:' line to pin after in " + bed.spec);
        Path tmp = bed.spec.resolveSibling("." + bed.spec.getFileName() + ".tmp");
        Files.writeString(tmp, pinned);
        Files.move(tmp, bed.spec, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The stand-in at a given schema level: bed.sh's publish always takes the flavor's default, so registry.sh directly. */
    static void publish(Version v, String flavor, int schema) throws Exception {
        Path err = bed.dir.resolve("publish.log");
        Process p = new ProcessBuilder(Bed.repoRoot().resolve("testbed/registry.sh").toString(), "publish", bed.dir.resolve("registry").toString(),
                v.toString(), flavor, String.valueOf(schema))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(err.toFile())).start();
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) fail("publish " + v + " " + flavor + " failed; see " + err);
    }
}
