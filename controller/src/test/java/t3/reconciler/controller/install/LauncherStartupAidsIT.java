package t3.reconciler.controller.install;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/t3-reconciler} with the start-up aids {@code packaging/startup-aids.sh} writes beside the shaded jar
 * (what install.sh runs): with them, SQLite's native library is loaded from {@code <jar>.native/} and the controller's
 * classes come from the AppCDS archive {@code <jar>.jsa}; without them, stale (older than the jar) or broken, the same
 * command works as before, and says nothing about it. Each run is {@code events}, which opens the state store.
 */
class LauncherStartupAidsIT {
    static Path repo;
    static final String FLAGS = "-Xms8m -Xmx128m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=20 -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:CICompilerCount=1 -Xss512k";

    @TempDir Path tmp;

    @BeforeAll
    static void findRepo() {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve("packaging/startup-aids.sh"))) dir = dir.getParent();
        assertTrue(dir != null, "packaging/startup-aids.sh not found above " + System.getProperty("user.dir"));
        repo = dir;
        assertTrue(Files.isRegularFile(repo.resolve("controller/target/t3-reconciler.jar")), "the shaded jar is built by package, before this IT");
    }

    record Run(int code, String out, String err) {}

    Run run(Path jar, String extraJvmFlags, String... args) throws IOException, InterruptedException {
        Path out = Files.createTempFile(tmp, "out", ".txt"), err = Files.createTempFile(tmp, "err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(args).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().remove("T3R_SPEC");
        pb.environment().remove("T3R_CDS_ARCHIVE");
        pb.environment().put("T3R_JAR", jar.toString());
        if (extraJvmFlags != null) pb.environment().put("T3R_JAVA_OPTS", FLAGS + " " + extraJvmFlags);
        int code = pb.start().waitFor();
        return new Run(code, Files.readString(out), Files.readString(err));
    }

    /** {@code events} through the launcher, with the JVM telling where SQLite's library and the store's class came from. */
    Run events(Path jar, Path spec) throws Exception {
        Path log = tmp.resolve("jvm-" + System.nanoTime() + ".log");
        Run r = run(jar, "-Xlog:library=info,class+load=info:file=" + log, repo.resolve("bin/t3-reconciler").toString(), "events", "-f", spec.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        return new Run(r.code(), Files.readString(log), r.err());
    }

    static boolean libraryFrom(Run r, Path dir) { return r.out().contains("Loaded library " + dir.resolve("libsqlitejdbc.so")); }

    static boolean storeFromArchive(Run r) {
        return r.out().lines().anyMatch(l -> l.contains(" t3.reconciler.controller.store.StateStore source: shared objects file (top)"));
    }

    @Test
    void theLauncherUsesFreshAidsAndIgnoresStaleOrBrokenOnesSilently() throws Exception {
        Path jar = tmp.resolve("t3-reconciler.jar");
        Files.copy(repo.resolve("controller/target/t3-reconciler.jar"), jar, StandardCopyOption.COPY_ATTRIBUTES);
        Files.setLastModifiedTime(jar, FileTime.from(Instant.now().minusSeconds(60)));
        Path spec = tmp.resolve("desired-state.yaml");
        Files.writeString(spec, Files.readString(repo.resolve("desired-state.example.yaml"))
                .replaceFirst("(?m)^  stateDb: .*$", "  stateDb: " + tmp.resolve("state.db")));
        Path lib = Path.of(jar + ".native");

        Run none = events(jar, spec);
        assertFalse(libraryFrom(none, lib) || storeFromArchive(none), "no aids yet:\n" + none.out());

        Run aids = run(jar, null, repo.resolve("packaging/startup-aids.sh").toString(), jar.toString());
        assertEquals(0, aids.code(), aids.out() + aids.err());
        assertTrue(Files.isRegularFile(lib.resolve("libsqlitejdbc.so")) && Files.isRegularFile(Path.of(jar + ".jsa")), aids.err());
        Run fresh = events(jar, spec);
        assertTrue(libraryFrom(fresh, lib), "SQLite's library from " + lib + ":\n" + fresh.out());
        assertTrue(storeFromArchive(fresh), "the controller's classes from the archive");

        // A new jar over old aids (an upgrade that did not rewrite them): they describe another jar, so neither is used.
        Files.setLastModifiedTime(jar, FileTime.from(Instant.now().plusSeconds(60)));
        Run stale = events(jar, spec);
        assertFalse(libraryFrom(stale, lib), "a library older than the jar is not loaded");
        assertFalse(storeFromArchive(stale), "an archive older than the jar is not used");

        // Newer than the jar but not what it claims to be: the JVM ignores a broken archive without a word.
        Files.writeString(Path.of(jar + ".jsa"), "not an archive");
        Files.setLastModifiedTime(Path.of(jar + ".jsa"), FileTime.from(Instant.now().plusSeconds(120)));
        Files.setLastModifiedTime(lib.resolve("libsqlitejdbc.so"), FileTime.from(Instant.now().plusSeconds(120)));
        Run brokenArchive = run(jar, null, repo.resolve("bin/t3-reconciler").toString(), "events", "-f", spec.toString());
        assertEquals(0, brokenArchive.code(), brokenArchive.out() + brokenArchive.err());
        assertEquals("", brokenArchive.err(), "a broken archive is ignored silently");
        // A broken library: sqlite-jdbc cannot load it and extracts its own copy, as without aids (the JVM may print
        // one warning about the failed load; the command works).
        Files.writeString(lib.resolve("libsqlitejdbc.so"), "not a library");
        Files.setLastModifiedTime(lib.resolve("libsqlitejdbc.so"), FileTime.from(Instant.now().plusSeconds(120)));
        Run brokenLibrary = run(jar, null, repo.resolve("bin/t3-reconciler").toString(), "events", "-f", spec.toString());
        assertEquals(0, brokenLibrary.code(), brokenLibrary.out() + brokenLibrary.err());
        assertFalse(brokenLibrary.err().contains("Exception"), brokenLibrary.err());
    }
}
