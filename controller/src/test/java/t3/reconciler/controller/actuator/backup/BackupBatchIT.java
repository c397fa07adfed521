package t3.reconciler.controller.actuator.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.actuator.Backups;
import t3.reconciler.controller.actuator.Backups.BackupRequest;
import t3.reconciler.controller.actuator.Backups.Outcome;
import t3.reconciler.controller.actuator.Backups.RestoreReport;
import t3.reconciler.controller.actuator.Backups.RestoreRequest;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.Version;

/**
 * Backups and restores of several users at once, as real local accounts with real databases: each user's outcome is
 * their own (verified, theirs, in order of the request), a user whose files are refused fails alone, and a user may
 * not appear twice in one batch.
 */
class BackupBatchIT {
    static final List<String> USERS = List.of("t3rp-ba", "t3rp-bb", "t3rp-bc", "t3rp-bd");
    static final Version V = Version.parse("0.0.25-nightly.20260608.497");

    @TempDir Path dir;
    SqliteBackups backups;
    final Map<String, Path> dbs = new LinkedHashMap<>();

    @BeforeEach
    void setUp() throws Exception {
        for (String u : USERS) dbs.put(u, Fixtures.userDb(Files.createDirectories(Fixtures.home(dir, u).resolve(".t3/userdata")).resolve("state.sqlite")));
        for (String u : USERS) Fixtures.giveHome(dir, u);
        backups = new SqliteBackups(dir.resolve("backups"));
    }

    List<BackupRequest> requests() {
        List<BackupRequest> r = new ArrayList<>();
        dbs.forEach((u, db) -> r.add(new BackupRequest(u, db, V)));
        return r;
    }

    @Test
    void everyUserIsBackedUpVerifiedAndListedInRequestOrder() throws Exception {
        List<Outcome<BackupInfo>> out = backups.backupAll(requests(), 3);
        assertEquals(USERS, out.stream().map(Outcome::user).toList());
        for (Outcome<BackupInfo> o : out) {
            assertTrue(o.ok(), o.user() + ": " + o.error());
            assertEquals(o.user(), o.value().user());
            assertTrue(o.value().path().startsWith(dir.resolve("backups").resolve(o.user())), o.value().path().toString());
            assertEquals(List.of(o.value()), backups.list(o.user()), "listed, and verified by its sidecar");
            assertEquals(20, Fixtures.number(o.value().path(), "SELECT count(*) FROM projection_messages"), "the user's own rows");
            assertEquals(Checksums.sha256(o.value().path()) + "  " + o.value().path().getFileName(),
                    Files.readString(Checksums.sidecar(o.value().path())).strip(), "the sidecar vouches for the bytes renamed into place");
        }
    }

    @Test
    void aUserWhoseDatabaseIsALinkFailsAloneAndTheOthersAreBackedUp() throws Exception {
        String bad = USERS.get(1);
        Path db = dbs.get(bad);
        Files.delete(db);
        Fixtures.run(List.of("runuser", "-u", bad, "--", "ln", "-s", "/etc/shadow", db.toString()));
        List<Outcome<BackupInfo>> out = backups.backupAll(requests(), 4);
        for (Outcome<BackupInfo> o : out) {
            if (o.user().equals(bad)) {
                assertFalse(o.ok());
                assertTrue(o.error().refusesUserFiles(), o.error().getMessage());
                assertTrue(o.error().getMessage().contains(bad), o.error().getMessage());
            } else {
                assertTrue(o.ok(), o.user() + ": " + o.error());
            }
        }
        assertEquals(List.of(), backups.list(bad));
    }

    @Test
    void restoresOfSeveralUsersRunTogetherEachFromTheirOwnBackup() throws Exception {
        List<Outcome<BackupInfo>> taken = backups.backupAll(requests(), 4);
        for (String u : USERS) Fixtures.sqlite3(u, dbs.get(u), "DELETE FROM projection_messages");
        List<RestoreRequest> restores = new ArrayList<>();
        for (Outcome<BackupInfo> o : taken) restores.add(new RestoreRequest(o.user(), o.value().path(), dbs.get(o.user())));
        List<Outcome<RestoreReport>> out = backups.restoreAll(restores, 4);
        assertEquals(USERS, out.stream().map(Outcome::user).toList());
        for (Outcome<RestoreReport> o : out) {
            assertTrue(o.ok(), o.user() + ": " + o.error());
            assertEquals(20, Fixtures.number(dbs.get(o.user()), "SELECT count(*) FROM projection_messages"), o.user() + " has their rows back");
            assertTrue(o.value().archive().startsWith(dir.resolve("backups").resolve(o.user())), "archived in their own directory");
        }
    }

    @Test
    void aUserTwiceInOneBatchIsRefusedBeforeAnythingRuns() {
        List<BackupRequest> twice = List.of(new BackupRequest(USERS.get(0), dbs.get(USERS.get(0)), V), new BackupRequest(USERS.get(0), dbs.get(USERS.get(0)), V));
        assertThrows(IllegalArgumentException.class, () -> backups.backupAll(twice, 2));
        assertFalse(Files.exists(dir.resolve("backups").resolve(USERS.get(0))), "nothing was taken");
    }

    /** The interface's own batch (what an in-memory fake inherits) keeps the same contract, one at a time. */
    @Test
    void theDefaultBatchRunsOneAtATimeWithTheSameOutcomes() throws Exception {
        Backups plain = new Backups() {
            @Override public BackupInfo backup(String user, Path database, Version onVersion) throws t3.reconciler.controller.actuator.ActuatorException { return backups.backup(user, database, onVersion); }
            @Override public List<BackupInfo> list(String user) throws t3.reconciler.controller.actuator.ActuatorException { return backups.list(user); }
            @Override public RestoreReport restore(String user, Path backup, Path database) throws t3.reconciler.controller.actuator.ActuatorException { return backups.restore(user, backup, database); }
            @Override public List<Path> prune(String user, int keep, java.util.Set<Path> protect) throws t3.reconciler.controller.actuator.ActuatorException { return backups.prune(user, keep, protect); }
        };
        List<Outcome<BackupInfo>> out = plain.backupAll(requests(), 4);
        assertEquals(USERS, out.stream().map(Outcome::user).toList());
        assertTrue(out.stream().allMatch(Outcome::ok), out.toString());
    }
}
