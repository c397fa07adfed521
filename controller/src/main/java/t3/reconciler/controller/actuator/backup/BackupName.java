package t3.reconciler.controller.actuator.backup;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import t3.reconciler.model.Version;

/** {@code <yyyyMMdd'T'HHmmssSSS'Z'>_<version>.sqlite}: sortable, and says which schema the copy holds. */
record BackupName(Instant takenAt, Version version) {
    static final String SUFFIX = ".sqlite";
    static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmssSSS'Z'").withZone(ZoneOffset.UTC);

    BackupName {
        takenAt = takenAt.truncatedTo(ChronoUnit.MILLIS);
    }

    static String stamp(Instant t) { return STAMP.format(t); }

    String fileName() { return stamp(takenAt) + "_" + version + SUFFIX; }

    /** Empty for anything else that lives in the directory (sidecars, temp files, {@code archive/}). */
    static Optional<BackupName> parse(String fileName) {
        if (!fileName.endsWith(SUFFIX)) return Optional.empty();
        String stem = fileName.substring(0, fileName.length() - SUFFIX.length());
        int sep = stem.indexOf('_'); // a Version never contains '_'
        if (sep < 0) return Optional.empty();
        try {
            Instant at = LocalDateTime.parse(stem.substring(0, sep), STAMP).toInstant(ZoneOffset.UTC);
            Version v = Version.parse(stem.substring(sep + 1));
            return Optional.of(new BackupName(at, v)).filter(n -> n.fileName().equals(fileName));
        } catch (DateTimeParseException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
