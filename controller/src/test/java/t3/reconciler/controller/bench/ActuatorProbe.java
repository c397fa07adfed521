package t3.reconciler.controller.bench;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import t3.reconciler.controller.actuator.backup.SqliteBackups;
import t3.reconciler.controller.actuator.npm.NpmPackages;
import t3.reconciler.controller.actuator.systemd.DbusUnits;
import t3.reconciler.model.Channel;
import t3.reconciler.model.Version;

/**
 * Issue 15's actuator rows, run in a JVM of its own with one build's jar on the class path ({@link #spawn}), so the
 * same code times this build and an older one: it calls only what both have (the constructors and methods below
 * existed at 53242dc; {@code DbusUnits.busCalls} did not, so it is looked up by reflection). Prints one line
 * {@code RESULT k=v ...}; the timing is inside this JVM, never its start.
 *
 * <pre>
 * resolve REGISTRY_URL N       NpmPackages.resolve("t3", nightly) N times: first=, warm= (median of the rest)
 * list BUS PATTERN PASSES      DbusUnits.list(PATTERN) after a first one: ms= (median), calls= (per list, -1 unknown), units=
 * backup USER DB ROOT WARM     one SqliteBackups(ROOT).backup(USER, DB, v), after one of the small database WARM
 *                              (class loading and the first user-side process are not what the row measures): ms=
 * </pre>
 */
public final class ActuatorProbe {
    static final Version V = Version.parse("0.0.25-nightly.20260601.1");

    public static void main(String[] a) throws Exception {
        String out = switch (a[0]) {
            case "resolve" -> resolve(URI.create(a[1]), Integer.parseInt(a[2]));
            case "list" -> list(a[1], a[2], Integer.parseInt(a[3]));
            case "backup" -> backup(a[1], Path.of(a[2]), Path.of(a[3]), Path.of(a[4]));
            default -> throw new IllegalArgumentException("resolve | list | backup");
        };
        System.out.println("RESULT " + out);
    }

    static String resolve(URI registry, int n) throws Exception {
        List<Double> ms = resolveTimes(registry, n);
        return "first=" + ms.get(0) + " warm=" + Stats.of(ms.subList(1, ms.size())).median();
    }

    /** {@code NpmPackages.resolve("t3", nightly)} {@code n} times in this JVM (also {@link ActuatorBench}'s): ms each, the first one cold. */
    static List<Double> resolveTimes(URI registry, int n) throws Exception {
        NpmPackages npm = new NpmPackages(Path.of("/usr/bin/npm"), Optional.of(registry), Duration.ofSeconds(30), "t3-candidate");
        List<Double> ms = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            npm.resolve("t3", Channel.NIGHTLY);
            ms.add((System.nanoTime() - t0) / 1e6);
        }
        return ms;
    }

    static String list(String bus, String pattern, int passes) throws Exception {
        try (DbusUnits u = new DbusUnits(bus)) {
            u.list(pattern);
            List<Double> ms = new ArrayList<>();
            long calls = -1;
            int seen = 0;
            for (int p = 0; p < passes; p++) {
                long c0 = busCalls(u), t0 = System.nanoTime();
                seen = u.list(pattern).size();
                ms.add((System.nanoTime() - t0) / 1e6);
                calls = c0 < 0 ? -1 : busCalls(u) - c0;
            }
            return "ms=" + Stats.of(ms).median() + " calls=" + calls + " units=" + seen;
        }
    }

    /** -1 when this build does not count its calls. */
    static long busCalls(DbusUnits u) {
        try {
            return (long) DbusUnits.class.getMethod("busCalls").invoke(u);
        } catch (ReflectiveOperationException e) {
            return -1;
        }
    }

    static String backup(String user, Path db, Path root, Path warm) throws Exception {
        Files.createDirectories(root);
        SqliteBackups b = new SqliteBackups(root);
        Path w = b.backup(user, warm, V).path();
        Files.deleteIfExists(w);
        Files.deleteIfExists(w.resolveSibling(w.getFileName() + ".sha256"));
        long t0 = System.nanoTime();
        Path made = b.backup(user, db, V).path();
        double ms = (System.nanoTime() - t0) / 1e6;
        Files.deleteIfExists(made);
        Files.deleteIfExists(made.resolveSibling(made.getFileName() + ".sha256"));
        return "ms=" + ms;
    }

    private ActuatorProbe() {}
}
