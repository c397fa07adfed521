package t3.reconciler.controller.actuator;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.Version;

/**
 * Backups of users' SQLite databases under {@code <backupDir>/<user>/}, a tree only the controller (root) can enter:
 * directories 0700 and files 0600, all root's, so a user can neither read their backups nor plant anything there.
 * Whatever lies in a user's own directories is touched only by a process running as that user (the user being the
 * local account of that name, never root): root never opens a path the user could have chosen. A user whose files
 * are refused (the database or its directory is a link, a FIFO, or out of the user's own reach) gets an
 * {@link ActuatorException#refusesUserFiles} verdict naming the user and the path; an outage is transient.
 */
public interface Backups {
    /**
     * Online {@code VACUUM INTO} of a live database, taken by the user's own process and handed to root as a stream,
     * verified by {@code PRAGMA integrity_check} and given a sha256 sidecar.
     */
    BackupInfo backup(String user, Path database, Version onVersion) throws ActuatorException;

    /** This user's backups, newest first; a file whose name does not parse is ignored. */
    List<BackupInfo> list(String user) throws ActuatorException;

    /**
     * Replaces {@code database} by {@code backup}, which must pass integrity_check and match its sha256 sidecar. The
     * unit must be stopped by the caller. The current database (with its -wal/-shm) is archived first into the
     * backup tree, never deleted; the new file is written and renamed over by the user's process, and stale
     * -wal/-shm are removed before the rename.
     */
    RestoreReport restore(String user, Path backup, Path database) throws ActuatorException;

    /** Keeps the newest {@code keep} per user and never deletes a path in {@code protect}. Returns what was deleted. */
    List<Path> prune(String user, int keep, Set<Path> protect) throws ActuatorException;

    /** One backup of a batch: {@link #backup}'s arguments. */
    record BackupRequest(String user, Path database, Version onVersion) {}

    /** One restore of a batch: {@link #restore}'s arguments. The user's unit must already be stopped (or down). */
    record RestoreRequest(String user, Path backup, Path database) {}

    /** One user's outcome in a batch: exactly one of {@code value} and {@code error} is set. */
    record Outcome<T>(String user, T value, ActuatorException error) {
        public static <T> Outcome<T> ok(String user, T value) { return new Outcome<>(user, value, null); }

        public static <T> Outcome<T> failed(String user, ActuatorException error) { return new Outcome<>(user, null, error); }

        public boolean ok() { return error == null; }
    }

    /**
     * {@link #backup} of several users, at most {@code parallelism} at once; one user's failure never stops another's.
     * Outcomes come back in the order of {@code requests}. A user may appear only once per batch.
     */
    default List<Outcome<BackupInfo>> backupAll(List<BackupRequest> requests, int parallelism) {
        List<Outcome<BackupInfo>> out = new ArrayList<>();
        for (BackupRequest r : requests) {
            try {
                out.add(Outcome.ok(r.user(), backup(r.user(), r.database(), r.onVersion())));
            } catch (ActuatorException e) {
                out.add(Outcome.failed(r.user(), e));
            }
        }
        return out;
    }

    /**
     * {@link #restore} of several users, at most {@code parallelism} at once, for users who are all down already (after
     * a failed rollout): nobody is restarted here. Outcomes in the order of {@code requests}; a user only once.
     */
    default List<Outcome<RestoreReport>> restoreAll(List<RestoreRequest> requests, int parallelism) {
        List<Outcome<RestoreReport>> out = new ArrayList<>();
        for (RestoreRequest r : requests) {
            try {
                out.add(Outcome.ok(r.user(), restore(r.user(), r.backup(), r.database())));
            } catch (ActuatorException e) {
                out.add(Outcome.failed(r.user(), e));
            }
        }
        return out;
    }

    /**
     * @param archive           where the replaced database now is
     * @param projectionRowsLost rows in {@code projection_*} tables of the replaced database that the backup lacks
     */
    record RestoreReport(Path archive, long projectionRowsLost) {}
}
