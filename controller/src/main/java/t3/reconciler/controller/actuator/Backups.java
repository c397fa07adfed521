package t3.reconciler.controller.actuator;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.Version;

/**
 * Backups of users' SQLite databases under {@code <backupDir>/<user>/}. Files keep the owner of the user's
 * database and mode 0600 (directories 0700), even when the controller runs as root.
 */
public interface Backups {
    /** Online {@code VACUUM INTO} of a live database, verified by {@code PRAGMA integrity_check}. */
    BackupInfo backup(String user, Path database, Version onVersion) throws ActuatorException;

    /** This user's backups, newest first; a file whose name does not parse is ignored. */
    List<BackupInfo> list(String user) throws ActuatorException;

    /**
     * Replaces {@code database} by {@code backup}. The unit must be stopped by the caller. The current database
     * (with its -wal/-shm) is archived first, never deleted; stale -wal/-shm are removed after.
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
