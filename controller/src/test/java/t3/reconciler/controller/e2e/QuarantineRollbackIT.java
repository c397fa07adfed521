package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import t3.reconciler.controller.actuator.systemd.DbusUnits;
import t3.reconciler.controller.cli.Main;
import t3.reconciler.controller.security.Hostile;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.controller.testbed.CapturedCli;
import t3.reconciler.model.Version;

/**
 * Issue 12: "a user whose DB is a symlink halts the rollback for every user after them". On the real bed, three users
 * are bumped to a build one migration ahead; the first of them (a real unprivileged account) then swaps their
 * database for a symbolic link to a root-only file. The operator's {@code rollback} must restore everyone else, leave
 * the root file byte for byte as it was, quarantine the attacker (status, store) and say so with a non-zero exit.
 */
class QuarantineRollbackIT {
    static final String MAL = "t3sq-mal", BOB = "t3sq-bob", CAT = "t3sq-cat";
    static final String[] USERS = {MAL, BOB, CAT};
    static final Version V0 = Version.parse("0.0.25-nightly.20260601.1");
    static final Version V1 = Version.parse("0.0.25-nightly.20260608.2");
    static Bed bed;

    @BeforeAll
    static void up() throws Exception {
        Hostile.requireRoot();
        bed = Bed.fresh(USERS);
    }

    @AfterAll
    static void down() throws Exception {
        if (bed != null) bed.close();
    }

    @Test
    void aUserWhoseDatabaseIsALinkIsQuarantinedAndEveryoneElseIsRolledBack() throws Exception {
        Process p = new ProcessBuilder(Bed.repoRoot().resolve("testbed/registry.sh").toString(), "publish", bed.dir.resolve("registry").toString(),
                V1.toString(), "good", "5", "nightly").redirectErrorStream(true).start();
        String published = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), published);
        CapturedCli bump = cli("run", "--once");
        assertEquals(Main.OK, bump.code(), bump.out() + bump.err());
        for (String u : USERS) assertEquals(5, migrations(bed.database(u)), u + " bumped onto the schema of " + V1);

        // A root-only secret, and the attacker's database replaced by a link to it (in a directory they own).
        Path vault = Files.createDirectories(bed.dir.resolve("vault"));
        Files.setPosixFilePermissions(vault, PosixFilePermissions.fromString("rwx------"));
        Path secret = vault.resolve("secret");
        byte[] bytes = new byte[4096];
        new SecureRandom().nextBytes(bytes);
        Files.write(secret, bytes);
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        Path malDb = bed.database(MAL);
        Hostile.Result ln = Hostile.runAs(MAL, "/bin/ln", "-sfn", secret.toString(), malDb.toString());
        assertTrue(ln.ok(), ln.output());
        assertTrue(Files.isSymbolicLink(malDb));

        CapturedCli r = cli("rollback", "--to", V0.toString(), "--force");
        assertEquals(Main.FAILED, r.code(), "done for everyone else, but not for the quarantined user: " + r.out() + r.err());
        assertTrue(r.out().contains("quarantined, NOT restored: " + MAL + " ("), r.out());

        assertArrayEquals(bytes, Files.readAllBytes(secret), "the root-only file is byte for byte what it was");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(secret, LinkOption.NOFOLLOW_LINKS)));
        assertEquals(0, (Integer) Files.getAttribute(secret, "unix:uid", LinkOption.NOFOLLOW_LINKS), "still root's");
        assertTrue(Files.isSymbolicLink(malDb), "the attacker's own link is left as it is");
        assertEquals(bed.dir.resolve("versions/" + V0 + "/bin/t3"), Files.readSymbolicLink(bed.link()), "link back on " + V0);
        try (DbusUnits units = new DbusUnits(bed.bus(), Duration.ofSeconds(2))) {
            for (String u : List.of(BOB, CAT)) {
                assertEquals(4, migrations(bed.database(u)), u + " restored to the schema of " + V0);
                assertTrue(units.status("t3-serve@" + u + ".service").active(), u + " is up");
            }
        }
        try (StateStore store = StateStore.open(bed.stateDb())) {
            assertEquals(List.of(MAL), new ArrayList<>(store.quarantined().keySet()));
            assertTrue(store.quarantined().get(MAL).reason().startsWith("restore refused: "), store.quarantined().toString());
            assertTrue(store.rollbackRequest().isEmpty(), "the rollback is finished for everyone it could reach");
        }
        CapturedCli status = cli("status", "--no-registry");
        assertTrue(status.out().contains("Quarantine: " + MAL + " since "), status.out());
    }

    /** The real CLI on this bed's desired-state file. */
    static CapturedCli cli(String... args) {
        List<String> full = new ArrayList<>(List.of(args));
        full.addAll(List.of("-f", bed.spec.toString()));
        return CapturedCli.run(full.toArray(String[]::new));
    }

    static int migrations(Path db) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + db + "?mode=ro");
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM effect_sql_migrations")) {
            return rs.next() ? rs.getInt(1) : -1;
        }
    }
}
