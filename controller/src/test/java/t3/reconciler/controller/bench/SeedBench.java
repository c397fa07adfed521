package t3.reconciler.controller.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import t3.reconciler.controller.actuator.backup.SeedCopy;

/**
 * Issue 8 point 7: preparing the health check's seed ({@link SeedCopy}: {@code cp --reflink=auto}, else a streamed
 * copy) against plain {@code cp} of the same file. Warm page cache for every method (the backup was just written).
 */
final class SeedBench {
    interface Copy {
        void run(Path from, Path to) throws Exception;
    }

    static void run() throws Exception {
        Path src = Dbs.populated();
        Path dir = Bench.work().resolve("seed");
        Files.createDirectories(dir);
        Path dst = dir.resolve("seed.sqlite");
        Files.deleteIfExists(dst);
        int reps = Bench.intOpt("reps", 5);
        boolean reflink = Sh.run(List.of("cp", "--reflink=always", src.toString(), dst.toString())).exit() == 0;
        Files.deleteIfExists(dst);
        String fs = Sh.ok("findmnt", "-n", "-o", "FSTYPE", "--target", dir.toString()).strip();

        Map<String, Copy> methods = new LinkedHashMap<>();
        methods.put("`cp` (baseline)", (a, b) -> Sh.ok("cp", a.toString(), b.toString()));
        methods.put("`SeedCopy.copy` (cp --reflink=auto + size check)", (a, b) -> SeedCopy.copy(a, b));
        methods.put("streamed `Files.copy` (SeedCopy's fallback)", (a, b) -> Files.copy(a, b));
        Map<String, List<Double>> ms = new LinkedHashMap<>();
        methods.keySet().forEach(k -> ms.put(k, new ArrayList<>()));
        Files.copy(src, dst); // warm the cache once, untimed
        Files.delete(dst);
        for (int r = 0; r < reps; r++) {
            for (var m : methods.entrySet()) {
                long t0 = System.nanoTime();
                m.getValue().run(src, dst);
                ms.get(m.getKey()).add((System.nanoTime() - t0) / 1e6);
                Files.delete(dst);
            }
        }
        double size = Dbs.mb(Files.size(src));
        double base = Stats.of(ms.values().iterator().next()).median();
        Table t = new Table(String.format("Seed preparation: %.0f MB file, %s, median of %d (issue 8.7)", size, fs, reps),
                "method", "median ms", "p90 ms", "MB/s", "time vs cp");
        for (var e : ms.entrySet()) {
            Stats s = Stats.of(e.getValue());
            t.row(e.getKey(), Table.ms(s.median()), Table.ms(s.p90()), String.format("%.0f", size / (s.median() / 1000)), Table.x(s.median() / base));
        }
        t.note("Reflink on this filesystem (" + fs + "): " + (reflink ? "supported, so SeedCopy shares blocks" : "not supported, so SeedCopy is an ordinary cp (copy_file_range)")
                + ". Source in page cache; the 2.7 GB field seed scales linearly from the MB/s column.");
        t.print();
    }

    private SeedBench() {}
}
