package t3.reconciler.controller.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The populated database shared by the backup and seed benches, kept between runs (creating 500 MB takes a while). */
final class Dbs {
    static int sizeMb() { return Bench.intOpt("size-mb", Bench.full() ? 500 : 100); }

    static Path populated() throws IOException, InterruptedException {
        int mb = sizeMb();
        Path db = Bench.work().resolve("data/db-" + mb + "mb.sqlite");
        Path done = db.resolveSibling(db.getFileName() + ".complete");
        if (!Files.exists(done)) {
            System.out.println("populating a " + mb + " MB database at " + db + " ...");
            long t0 = System.nanoTime();
            Populated.create(db, mb);
            Files.writeString(done, "");
            System.out.printf("  done in %.1f s (%d MB)%n", (System.nanoTime() - t0) / 1e9, Files.size(db) >> 20);
        }
        return db;
    }

    static double mb(long bytes) { return bytes / 1048576.0; }

    private Dbs() {}
}
