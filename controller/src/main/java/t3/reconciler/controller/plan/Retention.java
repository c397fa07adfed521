package t3.reconciler.controller.plan;

import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import t3.reconciler.model.BackupInfo;
import t3.reconciler.model.Rollout;
import t3.reconciler.model.Version;

/** What retention keeps, decided here and applied by the executor after a backup and a promote. */
public final class Retention {
    private Retention() {}

    /**
     * The backups of {@code user} pruning must keep whatever their age: this rollout's pre-bump backup, and the newest
     * verified backup of every version that is last-good or still installed aside (each a possible rollback target).
     *
     * @param backups {@code user}'s backups, newest first
     */
    public static Set<Path> protectedBackups(String user, Optional<Rollout> rollout, Set<Version> present, Optional<Version> lastGood, List<BackupInfo> backups) {
        Set<Path> keep = new HashSet<>();
        rollout.map(r -> r.backups().get(user)).ifPresent(keep::add);
        Set<Version> targets = new HashSet<>(present);
        lastGood.ifPresent(targets::add);
        Set<Version> seen = new HashSet<>();
        for (BackupInfo b : backups) {
            if (b.verified() && targets.contains(b.version()) && seen.add(b.version())) keep.add(b.path());
        }
        return keep;
    }

    /** The installs to keep after a promote: the newest {@code keepVersions}, and always last-good and the active one. */
    public static Set<Version> versionsToKeep(Version lastGood, Optional<Version> active, Set<Version> present, int keepVersions) {
        Set<Version> keep = new HashSet<>();
        keep.add(lastGood);
        active.ifPresent(keep::add);
        present.stream().sorted(Comparator.reverseOrder()).limit(keepVersions).forEach(keep::add);
        return keep;
    }
}
