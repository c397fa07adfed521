package t3.reconciler.controller.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import t3.reconciler.controller.actuator.Backups;
import t3.reconciler.controller.actuator.BusyProbe;
import t3.reconciler.controller.actuator.HealthCheck;
import t3.reconciler.controller.actuator.Packages;
import t3.reconciler.controller.actuator.Pairing;
import t3.reconciler.controller.actuator.Releases;
import t3.reconciler.controller.actuator.Units;
import t3.reconciler.controller.actuator.backup.SqliteBackups;
import t3.reconciler.controller.actuator.health.HttpHealthCheck;
import t3.reconciler.controller.actuator.health.HttpPairing;
import t3.reconciler.controller.actuator.npm.NpmPackages;
import t3.reconciler.controller.actuator.npm.SymlinkReleases;
import t3.reconciler.controller.actuator.systemd.CgroupBusyProbe;
import t3.reconciler.controller.actuator.systemd.DbusUnits;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.loop.Actuators;
import t3.reconciler.controller.crash.CrashPoints;
import t3.reconciler.controller.loop.LogAlerter;
import t3.reconciler.controller.loop.Reconciler;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.DesiredStateLoader;
import t3.reconciler.model.Version;

/**
 * Issue 6: a converged (no-op) reconcile pass with 3, 100 and 1000 user units on the real user manager. Three real
 * users run the stand-in t3; the others are cheap instances of the same template (a per-instance drop-in runs
 * {@code sleep infinity}) with a small database and a verified backup each, so the Observer does its per-user I/O
 * (unit properties, cgroup busy probe, DB stat, backup listing). The real {@link Reconciler} runs in this process with
 * counting wrappers around every actuator; D-Bus messages are counted on the bus with {@code busctl monitor}.
 */
final class NoopBench {
    static final String[] REAL = {"t3bn-a", "t3bn-b", "t3bn-c"};

    record Row(int units, Stats ms, double unitsCalls, double dbusCalls, double resolveMs, double backupsMs, double busyMs, double unitsMs) {}

    static void run() throws Exception {
        List<Integer> counts = Bench.intsOpt("units", "3,100,1000");
        int passes = Bench.intOpt("passes", 10);
        Path dir = Bench.work().resolve("noop-" + UUID.randomUUID().toString().substring(0, 6));
        System.out.println("bed up at " + dir + " ...");
        Path spec = Path.of(Sh.bed(dir, DaemonBench.concat("up", dir.toString(), REAL)).strip().lines().reduce((a, b) -> b).orElseThrow());
        String original = Files.readString(spec);
        String bus = "unix:path=" + dir.resolve("systemd/bus");
        Counting c = new Counting();
        List<Row> rows = new ArrayList<>();
        try (PrintStream logOut = new PrintStream(Files.newOutputStream(dir.resolve("reconciler.log")), true)) {
            DesiredState s0 = DesiredStateLoader.load(spec);
            DbusUnits dbus = new DbusUnits(s0.controller().bus());
            DesiredState.Install in = s0.install();
            Clock clock = Clock.systemUTC();
            Actuators io = new Actuators(
                    c.wrap(Units.class, dbus),
                    c.wrap(BusyProbe.class, new CgroupBusyProbe()),
                    c.wrap(Packages.class, NpmPackages.from(in)),
                    c.wrap(Releases.class, new SymlinkReleases(in.versionsDir(), in.link(), s0.packageName())),
                    c.wrap(Backups.class, new SqliteBackups(s0.backup().dir())),
                    c.wrap(HealthCheck.class, new HttpHealthCheck(in.user())),
                    c.wrap(Pairing.class, new HttpPairing()));
            Log log = new Log(logOut, Log.Format.JSON, clock);
            try (StateStore store = StateStore.open(s0.controller().stateDb())) {
                Reconciler rec = new Reconciler(io, store, clock, log, new LogAlerter(log, Optional.empty()), CrashPoints.none());
                // First pass on a new bed: adopt what runs, daily backups of the real users. Not timed.
                pass(rec, s0, true);
                Version installed = io.releases().active().orElseThrow();
                int made = REAL.length;
                for (int n : counts) {
                    List<String> users = new ArrayList<>(List.of(REAL));
                    for (int i = REAL.length + 1; i <= n; i++) users.add(String.format("t3bn-s%04d", i));
                    if (n > made) {
                        System.out.printf("adding %d synthetic users ...%n", n - made);
                        synthetic(dir, s0, users.subList(made, n), installed, dbus);
                        made = n;
                    }
                    String yaml = original.replaceFirst("(?m)^users: \\[.*]$", "users: [" + String.join(", ", users.subList(0, n)) + "]");
                    Files.writeString(spec, yaml);
                    DesiredState s = DesiredStateLoader.load(spec);
                    pass(rec, s, true); // warm: memoized checksums, JIT
                    c.reset();
                    List<Double> ms = new ArrayList<>();
                    for (int p = 0; p < passes; p++) ms.add(pass(rec, s, false));
                    double unitsCalls = (double) c.countPrefix("Units.") / passes;
                    Row r0 = new Row(n, Stats.of(ms), unitsCalls, 0, c.ms("Packages.resolve") / passes,
                            (c.ms("Backups.list")) / passes, c.ms("BusyProbe.busyProcesses") / passes, (c.ms("Units.list") + c.ms("Units.status")) / passes);
                    long dbusCalls = dbusCallsOf(bus, () -> pass(rec, s, false));
                    rows.add(new Row(n, r0.ms(), r0.unitsCalls(), dbusCalls, r0.resolveMs(), r0.backupsMs(), r0.busyMs(), r0.unitsMs()));
                    System.out.printf("%d units: median %.1f ms, %d D-Bus calls%n", n, r0.ms().median(), dbusCalls);
                }
            } finally {
                dbus.close();
            }
        } finally {
            Files.writeString(spec, original);
            Sh.bed(dir, "down", dir.toString());
        }
        Row b = rows.get(0);
        Table t = new Table(String.format("Converged (no-op) reconcile pass on the real user manager, %d passes per size", passes),
                "user units", "ms per pass, median / p90", "ms vs 3 units", "units vs 3", "ms without the registry call", "vs 3 units", "D-Bus method calls per pass", "D-Bus calls per unit",
                "`Units` calls per pass", "of which: registry (`npm view`) ms", "systemd (D-Bus) ms", "busy probe ms", "backup listing ms");
        for (Row r : rows) {
            t.row(r.units(), Table.ms(r.ms().median()) + " / " + Table.ms(r.ms().p90()), Table.x(r.ms().median() / b.ms().median()), Table.x((double) r.units() / b.units()),
                    Table.ms(r.ms().median() - r.resolveMs()), Table.x((r.ms().median() - r.resolveMs()) / (b.ms().median() - b.resolveMs())),
                    r.dbusCalls(), String.format("%.2f", r.dbusCalls() / r.units()), String.format("%.0f", r.unitsCalls()),
                    Table.ms(r.resolveMs()), Table.ms(r.unitsMs()), Table.ms(r.busyMs()), Table.ms(r.backupsMs()));
        }
        Row last = rows.get(rows.size() - 1);
        t.note(String.format("Growth from %d to %d units (%s): time %s, D-Bus calls %s, i.e. %s per unit; linear or better when the last ratio is ≤ 1.",
                b.units(), last.units(), Table.x((double) last.units() / b.units()), Table.x(last.ms().median() / b.ms().median()), Table.x(last.dbusCalls() / b.dbusCalls()),
                Table.x((last.dbusCalls() / last.units()) / (b.dbusCalls() / b.units()))));
        t.note("Every pass asks the registry once (`npm view` with a fresh cache, a node process): a constant cost that does not grow with users.");
        t.note("D-Bus calls: method calls to systemd seen on the bed's bus by `busctl monitor` during one pass (the listing, then Properties.Get per unit property).");
        t.print();
    }

    interface Pass {
        double run() throws Exception;
    }

    /** One pass; returns its ms. {@code mayAct}: a warm-up pass may take steps (adopt, backups), a timed one must not. */
    static double pass(Reconciler rec, DesiredState s, boolean mayAct) {
        long t0 = System.nanoTime();
        Reconciler.Result r = rec.reconcile(() -> s, false, () -> false);
        double ms = (System.nanoTime() - t0) / 1e6;
        if (!mayAct && (r.steps() > 0 || r.outcome() != t3.reconciler.controller.plan.PassOutcome.CONVERGED)) {
            throw new IllegalStateException("not a no-op pass: " + r);
        }
        if (mayAct && r.outcome() == t3.reconciler.controller.plan.PassOutcome.ERROR) throw new IllegalStateException("warm-up pass failed: " + r);
        return ms;
    }

    /** Cheap instances of the template, each with a small database and a verified backup, started. */
    static void synthetic(Path dir, DesiredState s, List<String> users, Version installed, DbusUnits dbus) throws Exception {
        Path units = dir.resolve("systemd/units");
        Path template = dir.resolve("synthetic-template.sqlite");
        if (!Files.exists(template)) {
            Sh.ok("sqlite3", template.toString(), "CREATE TABLE effect_sql_migrations (migration_id INTEGER PRIMARY KEY, created_at TEXT, name TEXT);"
                    + " CREATE TABLE projection_threads (id TEXT PRIMARY KEY, title TEXT, created_at TEXT, archived_at TEXT, messages INTEGER DEFAULT 0);"
                    + " INSERT INTO projection_threads (id, title) VALUES ('t1', 'hello');");
        }
        SqliteBackups backups = new SqliteBackups(s.backup().dir());
        Path firstBackupDir = null;
        for (String u : users) {
            Path d = units.resolve("t3-serve@" + u + ".service.d");
            Files.createDirectories(d);
            Files.writeString(d.resolve("bench.conf"), """
                    [Service]
                    EnvironmentFile=
                    WorkingDirectory=/
                    ExecStart=
                    ExecStart=/bin/sleep infinity
                    StandardOutput=null
                    StandardError=null
                    """);
            Path db = dir.resolve("home").resolve(u).resolve(".t3/userdata/state.sqlite");
            Files.createDirectories(db.getParent());
            Files.copy(template, db);
            Path bdir = s.backup().dir().resolve(u);
            if (firstBackupDir == null) {
                // Synthetic users have no local account to take a backup as: a verified backup is made by hand (the
                // file under its name, and a sha256 sidecar), then the same bytes for everyone else.
                Files.createDirectories(bdir);
                String name = java.time.format.DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmssSSS'Z'").withZone(java.time.ZoneOffset.UTC)
                        .format(java.time.Instant.now()) + "_" + installed + ".sqlite";
                Files.copy(template, bdir.resolve(name));
                Files.writeString(bdir.resolve(name + ".sha256"), Sh.ok("sha256sum", bdir.resolve(name).toString()).split(" ")[0] + "  " + name + "\n");
                backups.list(u); // taken into the root-only tree (0700/0600), as every later pass finds it
                firstBackupDir = bdir;
            } else {
                Sh.ok("cp", "-a", firstBackupDir.toString(), bdir.toString());
            }
        }
        Sh.ok("busctl", "--address=unix:path=" + dir.resolve("systemd/bus"), "call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                "org.freedesktop.systemd1.Manager", "Reload");
        for (String u : users) dbus.start("t3-serve@" + u + ".service", Duration.ofSeconds(60));
    }

    /** Method calls to systemd on the bus while {@code body} runs, as {@code busctl monitor} sees them. */
    static long dbusCallsOf(String bus, Pass body) throws Exception {
        Process mon = new ProcessBuilder("busctl", "--address=" + bus, "monitor", "--json=short").redirectErrorStream(true).start();
        AtomicLong calls = new AtomicLong(), marks = new AtomicLong();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(mon.getInputStream()))) {
                for (String l; (l = r.readLine()) != null; ) {
                    if (!l.contains("\"type\":\"method_call\"")) continue;
                    if (l.contains("\"member\":\"GetId\"")) {
                        synchronized (marks) {
                            marks.incrementAndGet();
                            marks.notifyAll();
                        }
                    } else if (marks.get() == 1 && l.contains("\"destination\":\"org.freedesktop.systemd1\"")) {
                        calls.incrementAndGet();
                    }
                }
            } catch (Exception ignored) {
                // ends with the monitor
            }
        });
        reader.start();
        try {
            // A marker call before and after: the monitor is attached once it sees the first.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (marks.get() == 0) {
                if (System.nanoTime() > deadline) throw new IllegalStateException("busctl monitor saw nothing");
                Sh.ok("busctl", "--address=" + bus, "call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetId");
                synchronized (marks) {
                    if (marks.get() == 0) marks.wait(200);
                }
            }
            if (marks.get() != 1) throw new IllegalStateException("several markers before the pass; retry");
            body.run();
            Sh.ok("busctl", "--address=" + bus, "call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetId");
            synchronized (marks) {
                while (marks.get() < 2 && System.nanoTime() < deadline + TimeUnit.SECONDS.toNanos(60)) marks.wait(500);
            }
            return calls.get();
        } finally {
            mon.destroy();
            mon.waitFor(10, TimeUnit.SECONDS);
            reader.join(10_000);
        }
    }

    private NoopBench() {}
}
