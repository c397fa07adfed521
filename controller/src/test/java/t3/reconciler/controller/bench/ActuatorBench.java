package t3.reconciler.controller.bench;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import t3.reconciler.controller.actuator.Backups;
import t3.reconciler.controller.actuator.backup.SqliteBackups;
import t3.reconciler.controller.actuator.systemd.DbusUnits;
import t3.reconciler.model.Version;

/**
 * The small before/after probes of docs/perf-notes-actuators.md, each against parts the caller brought up (a verdaccio
 * from {@code testbed/registry.sh up}, a manager from {@code testbed/systemd-bed.sh up}, local accounts with their
 * databases). Not wired into {@code ./bench}; run with the test classes and the shaded jar on the class path:
 *
 * <pre>
 * java -cp controller/target/test-classes:controller/target/t3-reconciler.jar t3.reconciler.controller.bench.ActuatorBench \
 *   resolve REGISTRY_URL N                 # NpmPackages.resolve("t3", nightly) N times, median after the first
 *   list BUS_ADDRESS UNITS PASSES          # starts UNITS t3-serve@t3rpn<i>.service (template must exist), median list()
 *   backup PARALLELISM USER=DB [USER=DB..] # backup() one after another, then backupAll(…, PARALLELISM), 8 rounds each
 *   restore PARALLELISM USER=DB [USER=DB..]# restore() one after another, then restoreAll(…, PARALLELISM)
 * </pre>
 */
public final class ActuatorBench {
    static final Version V = Version.parse("0.0.25-nightly.20260601.1");

    public static void main(String[] a) throws Exception {
        switch (a[0]) {
            case "resolve" -> resolve(URI.create(a[1]), Integer.parseInt(a[2]));
            case "list" -> list(a[1], Integer.parseInt(a[2]), Integer.parseInt(a[3]));
            case "backup" -> backup(Integer.parseInt(a[1]), requests(a));
            case "restore" -> restore(Integer.parseInt(a[1]), requests(a));
            default -> throw new IllegalArgumentException("resolve | list | backup | restore");
        }
    }

    static void resolve(URI registry, int n) throws Exception {
        List<Double> ms = ActuatorProbe.resolveTimes(registry, n);
        System.out.printf("resolve: first %.1f ms, median of the rest %.1f ms%n", ms.get(0), median(ms.subList(1, ms.size())));
    }

    static void list(String bus, int n, int passes) throws Exception {
        try (DbusUnits u = new DbusUnits(bus)) {
            for (int i = 0; i < n; i++) u.start("t3-serve@t3rpn" + i + ".service", Duration.ofSeconds(60));
            u.list("t3-serve@t3rpn*.service");
            List<Double> ms = new ArrayList<>();
            long calls = 0;
            for (int p = 0; p < passes; p++) {
                long c0 = u.busCalls(), t0 = System.nanoTime();
                int seen = u.list("t3-serve@t3rpn*.service").size();
                ms.add((System.nanoTime() - t0) / 1e6);
                calls = u.busCalls() - c0;
                if (seen != n) throw new AssertionError(seen + " units listed, not " + n);
            }
            System.out.printf("list of %d units: median %.1f ms, %d D-Bus calls per list%n", n, median(ms), calls);
            for (int i = 0; i < n; i++) u.stop("t3-serve@t3rpn" + i + ".service", Duration.ofSeconds(60));
        }
    }

    static List<Backups.BackupRequest> requests(String[] a) {
        List<Backups.BackupRequest> r = new ArrayList<>();
        for (int i = 2; i < a.length; i++) r.add(new Backups.BackupRequest(a[i].split("=", 2)[0], Path.of(a[i].split("=", 2)[1]), V));
        return r;
    }

    static void backup(int parallelism, List<Backups.BackupRequest> reqs) throws Exception {
        Path root = Files.createTempDirectory("t3rp-bench-backups-");
        SqliteBackups b = new SqliteBackups(root);
        List<Double> seq = new ArrayList<>(), batch = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            long t0 = System.nanoTime();
            for (Backups.BackupRequest r : reqs) b.backup(r.user(), r.database(), r.onVersion());
            seq.add((System.nanoTime() - t0) / 1e6);
            t0 = System.nanoTime();
            for (var o : b.backupAll(reqs, parallelism)) if (!o.ok()) throw o.error();
            batch.add((System.nanoTime() - t0) / 1e6);
        }
        System.out.printf("%d users: one after another %.1f ms, backupAll(…, %d) %.1f ms (medians of rounds 2-8)%n", reqs.size(),
                median(seq.subList(1, 8)), parallelism, median(batch.subList(1, 8)));
    }

    static void restore(int parallelism, List<Backups.BackupRequest> reqs) throws Exception {
        SqliteBackups b = new SqliteBackups(Files.createTempDirectory("t3rp-bench-backups-"));
        List<Backups.RestoreRequest> rs = new ArrayList<>();
        for (var o : b.backupAll(reqs, parallelism)) {
            if (!o.ok()) throw o.error();
            rs.add(new Backups.RestoreRequest(o.user(), o.value().path(), reqs.stream().filter(r -> r.user().equals(o.user())).findFirst().orElseThrow().database()));
        }
        List<Double> seq = new ArrayList<>(), batch = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            long t0 = System.nanoTime();
            for (var r : rs) b.restore(r.user(), r.backup(), r.database());
            seq.add((System.nanoTime() - t0) / 1e6);
            t0 = System.nanoTime();
            for (var o : b.restoreAll(rs, parallelism)) if (!o.ok()) throw o.error();
            batch.add((System.nanoTime() - t0) / 1e6);
        }
        System.out.printf("%d users: restore() one after another %.1f ms, restoreAll(…, %d) %.1f ms (medians of rounds 2-6)%n", rs.size(),
                median(seq.subList(1, 6)), parallelism, median(batch.subList(1, 6)));
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        return s.get(s.size() / 2);
    }

    private ActuatorBench() {}
}
