package t3.reconciler.model;

import java.nio.file.Path;
import java.time.Instant;

/**
 * One backup file of one user's database.
 *
 * @param version  the t3 version the database belonged to when copied (its schema), so a rollback knows what it may restore
 * @param verified the copy passed {@code PRAGMA integrity_check}
 */
public record BackupInfo(String user, Path path, Version version, Instant takenAt, long bytes, boolean verified) {}
