package t3.reconciler.model;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * One user's server as observed.
 *
 * @param activeState    systemd's ActiveState ({@code active}, {@code inactive}, {@code failed}, ...); {@code missing} if no such unit
 * @param runningVersion the version the running process was started on, when known
 * @param lastStartedOn  the version the unit's last start ran on, running or not (systemd keeps ExecMainStartTimestamp
 *                       after the process exits): a unit down after a start on a failed build may have had its
 *                       database migrated by it, whoever started it
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
        List<BackupInfo> backups,
        Optional<Version> lastStartedOn) {

    public UserState {
        User.requireValidName(name);
        busyProcesses = List.copyOf(busyProcesses);
        backups = List.copyOf(backups);
    }

    /** A unit observed without its last start: what runs is what last started. */
    public UserState(String name, String unit, String activeState, long mainPid, Optional<Version> runningVersion, List<String> busyProcesses,
            Path database, boolean databaseExists, List<BackupInfo> backups) {
        this(name, unit, activeState, mainPid, runningVersion, busyProcesses, database, databaseExists, backups, runningVersion);
    }

    public boolean active() { return "active".equals(activeState); }

    public boolean busy() { return !busyProcesses.isEmpty(); }

    public Optional<BackupInfo> newestBackup() { return backups.stream().findFirst(); }

    /** The newest verified backup whose schema belongs to {@code v}: what a rollback to {@code v} restores. */
    public Optional<BackupInfo> newestVerifiedBackupOn(Version v) {
        return backups.stream().filter(b -> b.verified() && b.version().equals(v)).findFirst();
    }
}
