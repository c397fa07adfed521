package t3.reconciler.controller.security;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.cli.Main;
import t3.reconciler.controller.testbed.CapturedCli;
import t3.reconciler.controller.loop.FreezeFile;

/**
 * The freeze file is written by root (the operator's {@code freeze}, the breaker's self-freeze) and read by every
 * pass. A local user who can write its directory (a sticky one, like /tmp) plants a symlink at the temp name the
 * writer used to use ({@code <freeze>.tmp}) pointing at a root-only file, then lets root write the freeze file.
 * Before: root wrote the reason through the link into the victim and renamed the link into place as the freeze file.
 * Now: a freeze file in a directory anyone may create names in is refused (write and read alike, so the controller
 * stays frozen), the temp name is random and created O_EXCL|O_NOFOLLOW, and a symlinked freeze file reads as frozen.
 */
class FreezeFileAttackIT {
    static final String ATTACKER = "t3sc-frost";
    static final byte[] SECRET = "root-only secret: do not leak\n".getBytes();

    @TempDir Path tmp;
    Path base, shared, victim, spec;

    @BeforeAll
    static void attacker() throws Exception {
        Hostile.requireRoot();
        Hostile.ensureUser(ATTACKER);
    }

    @BeforeEach
    void layout() throws Exception {
        base = tmp.resolve("machine");
        Files.createDirectories(base.resolve("state"));
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x")); // the attacker may walk to the shared directory
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
        shared = Files.createDirectory(base.resolve("shared"));
        Files.setAttribute(shared, "unix:mode", 01777); // like /tmp
        victim = Files.write(base.resolve("victim"), SECRET);
        Files.setPosixFilePermissions(victim, PosixFilePermissions.fromString("rw-------"));
    }

    Path spec(Path freezeFile) throws Exception {
        return Files.writeString(base.resolve("desired.yaml"), "users: [alice]\ncontroller:\n  stateDb: " + base.resolve("state/state.db")
                + "\n  freezeFile: " + freezeFile + "\n  pidFile: " + base.resolve("state/pid") + "\n  metrics: off\n");
    }

    @Test
    void aSymlinkPlantedAtTheOldTempNameInAStickyDirectoryIsNotWrittenThrough() throws Exception {
        Path freeze = shared.resolve("freeze");
        Hostile.Result plant = Hostile.runAs(ATTACKER, "ln", "-s", victim.toString(), shared.resolve("freeze.tmp").toString());
        assertTrue(plant.ok(), "the attacker may create names in a sticky directory: " + plant.output());

        CapturedCli r = CapturedCli.run("freeze", "--reason", "maintenance", "-f", spec(freeze).toString());

        assertArrayEquals(SECRET, Files.readAllBytes(victim), "the root-only victim is byte-identical");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(victim)), "and still private");
        assertEquals(Main.FAILED, r.code(), r.out() + r.err());
        assertTrue(r.err().contains(freeze + ": its directory " + shared + " is writable by group or others (rwxrwxrwx, sticky)"),
                "refused, naming the file and why: " + r.err());
        assertFalse(Files.exists(freeze, LinkOption.NOFOLLOW_LINKS), "nothing written in the shared directory");
        Hostile.Result look = Hostile.runAs(ATTACKER, "cat", freeze.toString(), shared.resolve("freeze.tmp").toString());
        assertFalse(look.output().contains("root-only secret"), "nothing secret reached the attacker: " + look.output());
        assertTrue(FreezeFile.read(freeze).orElseThrow().startsWith("refused: " + freeze + ": its directory " + shared),
                "a freeze file in a sticky directory keeps the controller frozen");
    }

    @Test
    void inARootOnlyDirectoryTheTempNameIsRandomSoAStaleLinkAtTheOldNameIsLeftAlone() throws Exception {
        Path freeze = base.resolve("state/freeze");
        Files.createSymbolicLink(base.resolve("state/freeze.tmp"), victim); // what an attacker once planted, or an old writer's leftover

        CapturedCli r = CapturedCli.run("freeze", "--reason", "maintenance", "-f", spec(freeze).toString());

        assertEquals(Main.OK, r.code(), r.out() + r.err());
        assertArrayEquals(SECRET, Files.readAllBytes(victim), "the victim is byte-identical");
        assertTrue(Files.isRegularFile(freeze, LinkOption.NOFOLLOW_LINKS), "a regular file, not the link renamed into place");
        assertTrue(Files.readString(freeze).startsWith("maintenance ("), Files.readString(freeze));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(freeze)));
        try (Stream<Path> l = Files.list(base.resolve("state"))) {
            assertEquals(List.of("freeze", "freeze.tmp", "state.db"), l.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("state.db-")).sorted().toList(),
                    "no temp file left behind");
        }
    }

    @Test
    void aSymlinkedFreezeFileReadsAsFrozenNotAsTheFileItPointsAt() throws Exception {
        Path freeze = base.resolve("state/freeze");
        Files.createSymbolicLink(freeze, victim);
        String read = FreezeFile.read(freeze).orElseThrow(() -> new AssertionError("a symlinked freeze file is not 'not frozen'"));
        assertTrue(read.startsWith("refused: " + freeze + ": is a symbolic link"), read);
        assertFalse(read.contains("root-only secret"), "the target is not read (it would show in status): " + read);
    }

    @Test
    void aFreezeFileTheAttackerCreatesInAStickyDirectoryKeepsTheControllerFrozen() throws Exception {
        Path freeze = shared.resolve("freeze");
        assertTrue(FreezeFile.read(freeze).orElseThrow().contains("sticky"), "absent, but anyone could create it: frozen");
        assertTrue(Hostile.runAs(ATTACKER, "sh", "-c", "echo unfrozen-by-me > " + freeze).ok());
        String read = FreezeFile.read(freeze).orElseThrow();
        assertTrue(read.startsWith("refused: " + freeze), read);
        assertFalse(read.contains("unfrozen-by-me"), read);
    }

    @Test
    void aDirectoryLinkTheAttackerOwnsOnTheWayIsNotFollowed() throws Exception {
        Path link = shared.resolve("state");
        assertTrue(Hostile.runAs(ATTACKER, "ln", "-s", base.resolve("state").toString(), link.toString()).ok());
        Path freeze = link.resolve("freeze");
        CapturedCli r = CapturedCli.run("freeze", "--reason", "maintenance", "-f", spec(freeze).toString());
        assertEquals(Main.FAILED, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("the symbolic link " + link + " on the way to it is owned by " + ATTACKER), r.err());
        assertFalse(Files.exists(base.resolve("state/freeze")), "root wrote nothing where the attacker's link points");
        assertTrue(FreezeFile.read(freeze).orElseThrow().startsWith("refused: " + freeze), "and reading through it means frozen");

        Path elsewhere = Files.writeString(base.resolve("state/freeze"), "root's own file of that name\n");
        CapturedCli unfreeze = CapturedCli.run("unfreeze", "-f", spec(freeze).toString());
        assertEquals(Main.FAILED, unfreeze.code(), unfreeze.out() + unfreeze.err());
        assertTrue(unfreeze.err().contains("the symbolic link " + link + " on the way to it is owned by " + ATTACKER), unfreeze.err());
        assertEquals("root's own file of that name\n", Files.readString(elsewhere), "unfreeze removed nothing where the link points");
        Files.delete(elsewhere);

        Files.delete(link);
        Files.createSymbolicLink(link, base.resolve("state")); // root's own link in a sticky directory: nobody else may replace it
        assertEquals(Main.OK, CapturedCli.run("freeze", "--reason", "through root's link", "-f", spec(freeze).toString()).code());
        assertTrue(Files.readString(base.resolve("state/freeze")).startsWith("through root's link"));
        assertEquals(Main.OK, CapturedCli.run("unfreeze", "-f", spec(freeze).toString()).code());
        assertFalse(Files.exists(base.resolve("state/freeze")), "and unfreeze removes it");
    }

    @Test
    void aFreezeFileWhoseDirectoryDoesNotExistYetMeansNotFrozen() throws Exception {
        assertEquals(java.util.Optional.empty(), FreezeFile.read(base.resolve("state/not-yet/freeze")), "nobody but root could create that directory");
        Path theirs = shared.resolve("not-yet/freeze");
        assertTrue(Hostile.runAs(ATTACKER, "sh", "-c", "mkdir " + theirs.getParent() + " && echo unfrozen-by-me > " + theirs).ok());
        assertTrue(FreezeFile.read(theirs).orElseThrow().startsWith("refused: " + theirs + ": directory " + theirs.getParent() + " is owned by " + ATTACKER),
                "a directory another user made on the way is not trusted");
    }
}
