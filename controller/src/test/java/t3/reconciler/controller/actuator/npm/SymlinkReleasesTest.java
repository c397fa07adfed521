package t3.reconciler.controller.actuator.npm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.model.Version;

class SymlinkReleasesTest {
    static final Version A = Version.parse("0.0.24");
    static final Version B = Version.parse("0.0.25-nightly.20260608.497");

    @TempDir Path tmp;

    SymlinkReleases releases() { return new SymlinkReleases(tmp.resolve("versions"), tmp.resolve("bin/t3"), "t3"); }

    /** What a finished npm install leaves: an executable at prefix/bin/t3. */
    void fakeInstall(SymlinkReleases r, Version v) throws Exception {
        Files.createDirectories(r.binaryOf(v).getParent());
        Files.writeString(r.binaryOf(v), "#!/bin/sh\necho t3 v" + v + "\n");
        r.binaryOf(v).toFile().setExecutable(true);
    }

    @Test
    void onlyCompletedPrefixesArePresent() throws Exception {
        SymlinkReleases r = releases();
        assertEquals(Set.of(), r.present());
        fakeInstall(r, A);
        fakeInstall(r, B);
        Files.createDirectories(tmp.resolve("versions/not-a-version"));
        assertEquals(Set.of(), r.present());
        r.markComplete(A);
        assertEquals(Set.of(A), r.present());
    }

    @Test
    void activateSwitchesAndActiveFollows() throws Exception {
        SymlinkReleases r = releases();
        assertEquals(Optional.empty(), r.active());
        fakeInstall(r, A);
        fakeInstall(r, B);
        r.markComplete(A);
        r.markComplete(B);
        r.activate(A);
        assertEquals(Optional.of(A), r.active());
        assertEquals(r.binaryOf(A), Files.readSymbolicLink(tmp.resolve("bin/t3")));
        r.activate(B);
        assertEquals(Optional.of(B), r.active());
        r.activate(A); // rollback needs nothing but the link
        assertEquals(Optional.of(A), r.active());
        try (var stray = Files.list(tmp.resolve("bin"))) {
            assertEquals(List.of(tmp.resolve("bin/t3")), stray.toList(), "no temporary links left beside the link");
        }
    }

    @Test
    void anIncompleteInstallIsNeverActivated() throws Exception {
        SymlinkReleases r = releases();
        fakeInstall(r, A);
        ActuatorException e = assertThrows(ActuatorException.class, () -> r.activate(A));
        assertFalse(e.isTransient());
        assertEquals(Optional.empty(), r.active());
    }

    @Test
    void theLinkNeverDisappearsWhileSwitching() throws Exception {
        SymlinkReleases r = releases();
        for (Version v : List.of(A, B)) {
            fakeInstall(r, v);
            r.markComplete(v);
        }
        r.activate(A);
        Path link = tmp.resolve("bin/t3");
        AtomicBoolean done = new AtomicBoolean();
        List<String> seen = new ArrayList<>();
        // A reader racing the switches, as a unit starting mid-bump would: with rename(2) there is no gap to fall in.
        Thread reader = new Thread(() -> {
            while (!done.get()) {
                try {
                    Files.readSymbolicLink(link);
                } catch (NoSuchFileException e) {
                    synchronized (seen) { seen.add("missing"); }
                } catch (Exception e) {
                    synchronized (seen) { seen.add(e.toString()); }
                }
            }
        });
        reader.start();
        for (int i = 0; i < 500; i++) r.activate(i % 2 == 0 ? B : A);
        done.set(true);
        reader.join();
        assertEquals(List.of(), seen);
        assertEquals(Optional.of(A), r.active());
    }

    @Test
    void aLinkPointingElsewhereIsNotOurs() throws Exception {
        SymlinkReleases r = releases();
        Files.createDirectories(tmp.resolve("bin"));
        Files.createSymbolicLink(tmp.resolve("bin/t3"), Path.of("/usr/bin/true"));
        assertEquals(Optional.empty(), r.active());
    }

    @Test
    void pruneKeepsWhatIsAskedAndTheActiveOne() throws Exception {
        SymlinkReleases r = releases();
        Version c = Version.parse("0.0.23");
        for (Version v : List.of(A, B, c)) {
            fakeInstall(r, v);
            r.markComplete(v);
        }
        r.activate(c);
        r.prune(Set.of(A));
        assertEquals(Set.of(A, c), r.present());
        assertFalse(Files.exists(r.prefixOf(B)));
        try (var left = Files.list(tmp.resolve("versions"))) {
            assertTrue(left.allMatch(p -> Version.isValid(p.getFileName().toString())), "no half-deleted leftovers");
        }
    }
}
