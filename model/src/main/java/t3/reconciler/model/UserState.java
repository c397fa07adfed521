package t3.reconciler.model;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * One user's server as observed.
 *
 * @param activeState    systemd's ActiveState ({@code active}, {@code inactive}, {@code failed}, ...); {@code missing} if no such unit
 * @param runningVersion the version the running process was started on, when known
 * @param busyProcesses  command lines under the unit that match the busy patterns (an agent at work)
 * @param backups        this user's verified-or-not backups, newest first
 */
public record UserState(
        String name,
        String unit,
        String activeState,
        long mainPid,
        Optional<Version> runningVersion,
        List<String> busyProcesses,
        Path database,
        boolean databaseExists,
        List<BackupInfo> backups) {

    public UserState {
        User.requireValidName(name);
        busyProcesses = List.copyOf(busyProcesses);
        backups = List.copyOf(backups);
    }

    public boolean active() { return "active".equals(activeState); }

    public boolean busy() { return !busyProcesses.isEmpty(); }

    public Optional<BackupInfo> newestBackup() { return backups.stream().findFirst(); }

    /** The newest verified backup whose schema belongs to {@code v}: what a rollback to {@code v} restores. */
    public Optional<BackupInfo> newestVerifiedBackupOn(Version v) {
        return backups.stream().filter(b -> b.verified() && b.version().equals(v)).findFirst();
    }
}
