package t3.reconciler.controller.fake;

import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.Backups;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.Version;

/**
 * Backups per user, newest first, and what each user's database was last restored from. A restore records its archive;
 * the database files themselves are the test's (the observer only asks whether they exist).
 */
public final class FakeBackups implements Backups {
    private final FakeActuators fx;
    private final Path root;
    private final Clock clock;
    private final Map<String, List<BackupInfo>> byUser = new HashMap<>();
    private final Map<String, Path> restoredFrom = new HashMap<>();
    private final Set<String> failing = new HashSet<>();
    private final Set<String> refusing = new HashSet<>();
    private final Set<String> restoreOutage = new HashSet<>();
    private int serial;

    FakeBackups(FakeActuators fx, Path root, Clock clock) {
        this.fx = fx;
        this.root = root;
        this.clock = clock;
    }

    /** A backup already there (taken now on {@code v}), e.g. the one a downgrade needs. */
    public synchronized BackupInfo existing(String user, Version v) { return take(user, v); }

    /** This user's backups fail as the backup disk would (not the user's fault: no quarantine). */
    public synchronized void failBackup(String user) { failing.add(user); }

    public synchronized void backupsWork(String user) {
        failing.remove(user);
        refusing.remove(user);
    }

    /** This user's restores fail as an outage would (the user-side process could not be run): the journal is kept. */
    public synchronized void restoreOutage(String user) { restoreOutage.add(user); }

    public synchronized void restoresWork(String user) { restoreOutage.remove(user); }

    /** Every backup of this user is gone (deleted by hand, or the backup disk lost it): a restore must refuse. */
    public synchronized void lose(String user) { byUser.remove(user); }

    /** This user's files are refused (their database is a link they planted): backup and restore quarantine them. */
    public synchronized void refuseUserFiles(String user) { refusing.add(user); }

    public synchronized List<BackupInfo> of(String user) { return List.copyOf(byUser.getOrDefault(user, List.of())); }

    /** The backup this user's database was last restored from, if any. */
    public synchronized java.util.Optional<Path> restoredFrom(String user) { return java.util.Optional.ofNullable(restoredFrom.get(user)); }

    private BackupInfo take(String user, Version v) {
        Path p = root.resolve(user).resolve(String.format("%04d-%s.sqlite", ++serial, v));
        BackupInfo b = new BackupInfo(user, p, v, clock.instant(), 4096, true);
        byUser.computeIfAbsent(user, u -> new ArrayList<>()).add(0, b);
        return b;
    }

    @Override
    public BackupInfo backup(String user, Path database, Version onVersion) throws ActuatorException {
        fx.enter("backups.backup " + user);
        synchronized (this) {
            if (refusing.contains(user)) throw ActuatorException.refusedUserFiles(database + " is a symbolic link (told to refuse)");
            if (failing.contains(user)) throw FakeActuators.verdict("VACUUM INTO failed: disk I/O error (told to fail)");
            return take(user, onVersion);
        }
    }

    @Override
    public List<BackupInfo> list(String user) {
        fx.enter("backups.list " + user);
        return of(user);
    }

    @Override
    public RestoreReport restore(String user, Path backup, Path database) throws ActuatorException {
        fx.enter("backups.restore " + user);
        synchronized (this) {
            if (refusing.contains(user)) throw ActuatorException.refusedUserFiles(database + " is a symbolic link (told to refuse)");
            if (restoreOutage.contains(user)) throw FakeActuators.outage("cannot run the user-side restore of " + user + " (told to fail)");
            if (byUser.getOrDefault(user, List.of()).stream().noneMatch(b -> b.path().equals(backup))) {
                throw FakeActuators.verdict("no backup " + backup + " of " + user);
            }
            restoredFrom.put(user, backup);
            return new RestoreReport(root.resolve(user).resolve("archive-" + (++serial) + ".sqlite"), 0);
        }
    }

    /** One call on record for the whole batch ({@code backups.restoreAll alice,bob}), then each user's restore as itself. */
    @Override
    public List<Outcome<RestoreReport>> restoreAll(List<RestoreRequest> requests, int parallelism) {
        fx.enter("backups.restoreAll " + String.join(",", requests.stream().map(RestoreRequest::user).toList()) + " x" + parallelism);
        return Backups.super.restoreAll(requests, parallelism);
    }

    @Override
    public List<Path> prune(String user, int keep, Set<Path> protect) {
        fx.enter("backups.prune " + user);
        synchronized (this) {
            List<BackupInfo> all = byUser.getOrDefault(user, new ArrayList<>());
            List<Path> gone = new ArrayList<>();
            for (int i = all.size() - 1; i >= keep; i--) {
                if (protect.contains(all.get(i).path())) continue;
                gone.add(all.remove(i).path());
            }
            return gone;
        }
    }
}
