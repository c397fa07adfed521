package t3.reconciler.controller.security;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import t3.reconciler.controller.actuator.proc.Exec;

/**
 * A file of root's that an attacker tries to make root write, chmod or leak: root-owned, 0600, in a root-owned
 * directory the attacker may traverse but not list (so a symlink to it resolves). Its content carries a random
 * {@link #secret}, so a leak can be searched for.
 */
record Victim(Path path, byte[] bytes, String mode, String secret) {
    /** A plain file holding the secret. */
    static Victim file(Path dir, String name) throws IOException {
        String secret = "t3sa-secret-" + token();
        byte[] bytes = ("root's own file; " + secret + "\n").getBytes(StandardCharsets.US_ASCII);
        Path p = rootDir(dir).resolve(name);
        Files.write(p, bytes);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
        return new Victim(p, bytes, "rw-------", secret);
    }

    /** A SQLite database (made by root's sqlite3) with the secret in a projection row, as a user database would hold it. */
    static Victim database(Path dir, String name) throws IOException {
        String secret = "t3sa-secret-" + token();
        Path p = rootDir(dir).resolve(name);
        Exec.Result r = Exec.run(List.of("sqlite3", "-batch", p.toString(), "CREATE TABLE projection_threads (id TEXT PRIMARY KEY, title TEXT);"
                + "INSERT INTO projection_threads VALUES ('t1', '" + secret + "');"), java.time.Duration.ofSeconds(30));
        if (!r.ok()) throw new IOException("sqlite3 failed: " + r.tail());
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
        return new Victim(p, Files.readAllBytes(p), "rw-------", secret);
    }

    /** Root's, 0711: the attacker can resolve a path through it but neither list nor write it. */
    static Path rootDir(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        return dir;
    }

    /** Byte for byte, mode and owner as it was: root neither wrote nor chmodded nor chowned it. */
    void assertIntact() throws IOException {
        assertFalse(Files.isSymbolicLink(path), path + " was replaced by a link");
        assertArrayEquals(bytes, Files.readAllBytes(path), path + ": root's file was written through the attacker's link");
        assertEquals(mode, PosixFilePermissions.toString(Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS)), path + " mode");
        assertEquals(0, (Integer) Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS), path + " owner");
    }

    /** No regular file under {@code tree} (links not followed) holds the secret. */
    void assertNotIn(Path tree, String what) throws IOException {
        if (!Files.exists(tree, LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> all = Files.walk(tree)) {
            for (Path p : all.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).toList()) {
                if (p.equals(path)) continue;
                assertFalse(contains(p), "the secret of " + path + " reached " + what + ": " + p);
            }
        }
    }

    boolean contains(Path file) throws IOException {
        return new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1).contains(secret);
    }

    private static String token() {
        byte[] b = new byte[8];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
