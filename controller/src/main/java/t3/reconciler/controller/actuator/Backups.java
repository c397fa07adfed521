package t3.reconciler.controller.actuator;

import java.nio.file.Path;
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

    /**
     * @param archive           where the replaced database now is
     * @param projectionRowsLost rows in {@code projection_*} tables of the replaced database that the backup lacks
     */
    record RestoreReport(Path archive, long projectionRowsLost) {}
}
