package t3.reconciler.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Input that tries to make root do something else: user names and versions carrying shell or path syntax in the
 * desired-state file and the users map, and files that a non-root user could have written.
 */
class HostileInputIT {
    @TempDir Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"0; rm -rf /", "alice; rm -rf /", "../../etc", "alice/../root", "alice\nroot", "alice\u0000", "$(id)", "`id`",
            "-rf", "\uFF41lice", "al\u0456ce", "alice ", "root\u2028x"})
    void injectedUserNamesAreRejectedNamingTheField(String name) throws Exception {
        String quoted = "\"" + name.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n").replace("\u0000", "\\0").replace("\u2028", "\\L") + "\"";
        List<String> p = problems(write("desired.yaml", "users: [alice2, " + quoted + "]\n"));
        assertEquals(1, p.size(), p.toString());
        assertTrue(p.get(0).contains(":1:17: users[1]: ") && p.get(0).contains("is not a valid user name"), p.get(0));
        assertFalse(p.get(0).contains("\n") || p.get(0).contains("\u0000") || p.get(0).contains("\u2028"), "the message is one printable line: " + p.get(0));

        // The map is line-based: a name can carry no line break there, and surrounding blanks are trimmed.
        String inMap = name.replace("\n", "").replace("\u2028", "");
        if (User.isValidName(inMap.strip())) return;
        Path map = write("users.map", "someone@corp.example=" + inMap + "\n");
        List<String> fromMap = problems(write("mapped.yaml", "users: [alice2]\nusersFile: " + map + "\n"));
        assertEquals(1, fromMap.size(), fromMap.toString());
        assertTrue(fromMap.get(0).startsWith(map + ":1:") && fromMap.get(0).contains(": usersFile: "), fromMap.get(0));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.0.1; rm -rf /", "../../etc", "0.0.1\\n; id", "\uFF10.0.1", "0.0.1/../../x", "--registry=http://evil/"})
    void injectedPinsAreRejectedNamingTheField(String pin) throws Exception {
        List<String> p = problems(write("desired.yaml", "pin: \"" + pin + "\"\nusers: [alice]\n"));
        assertEquals(1, p.size(), p.toString());
        assertTrue(p.get(0).contains(":1:6: pin: "), p.get(0));
    }

    @Test
    void aDesiredStateFileAnotherUserOwnsIsRefusedWhenRunningAsRoot() throws Exception {
        requireRoot();
        Path f = write("desired.yaml", "users: [alice]\n");
        Files.setAttribute(f, "unix:uid", 65534);
        List<String> p = problems(f);
        assertEquals(List.of(f + ":1:1: (document): file is owned by nobody (uid 65534), not root; the controller runs as root and refuses"
                + " to take orders from a file another user could write (chown root:root it)"), p);
    }

    @Test
    void aDesiredStateFileOthersMayWriteIsRefused() throws Exception {
        requireRoot();
        Path f = write("desired.yaml", "users: [alice]\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-rw-r--"));
        List<String> p = problems(f);
        assertEquals(1, p.size(), p.toString());
        assertTrue(p.get(0).startsWith(f + ":1:1: (document): file is writable by group or others (rw-rw-r--)"), p.get(0));
    }

    @Test
    void aDirectoryOthersMayWriteIsRefusedUnlessSticky() throws Exception {
        requireRoot();
        Path open = Files.createDirectory(dir.resolve("open"));
        Path f = Files.writeString(open.resolve("desired.yaml"), "users: [alice]\n");
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        List<String> p = problems(f);
        assertEquals(1, p.size(), p.toString());
        assertTrue(p.get(0).contains("directory " + open + " is writable by group or others"), p.get(0));

        Files.setAttribute(open, "unix:mode", 01777); // like /tmp: nobody else may replace root's file, but anyone may create the name while it is absent
        List<String> sticky = problems(f);
        assertEquals(1, sticky.size(), sticky.toString());
        assertTrue(sticky.get(0).contains("its directory " + open + " is writable by group or others (rwxrwxrwx, sticky)"), sticky.get(0));

        Path inside = Files.createDirectory(open.resolve("etc"));
        Path g = Files.writeString(inside.resolve("desired.yaml"), "users: [alice]\n");
        assertEquals(List.of("alice"), DesiredStateLoader.load(g).users().stream().map(User::name).toList(),
                "a root-only directory inside a sticky one is root's alone: nobody else may rename it");
    }

    @Test
    void aDirectoryAboveTheFileThatAnotherUserOwnsIsRefused() throws Exception {
        requireRoot();
        Path theirs = Files.createDirectory(dir.resolve("theirs"));
        Path etc = Files.createDirectory(theirs.resolve("etc"));
        Path f = Files.writeString(etc.resolve("desired.yaml"), "users: [alice]\n");
        Files.setAttribute(theirs, "unix:uid", 65534); // they could rename etc away and put their own in its place
        List<String> p = problems(f);
        assertEquals(1, p.size(), p.toString());
        assertTrue(p.get(0).contains("directory " + theirs + " is owned by nobody (uid 65534), not root"), p.get(0));
    }

    @Test
    void aLinkToTheFileIsFollowedOnlyIfRootOwnsIt() throws Exception {
        requireRoot();
        Path real = write("real.yaml", "users: [alice]\n");
        Path link = Files.createSymbolicLink(dir.resolve("desired.yaml"), real);
        assertEquals(List.of("alice"), DesiredStateLoader.load(link).users().stream().map(User::name).toList(), "root's link: followed");
        Files.setAttribute(link, "unix:uid", 65534, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        List<String> p = problems(link);
        assertEquals(1, p.size(), p.toString());
        assertTrue(p.get(0).contains("the symbolic link " + link + " on the way to it is owned by nobody (uid 65534), not root"), p.get(0));
    }

    @Test
    void aUsersMapAnotherUserOwnsIsRefusedNamingIt() throws Exception {
        requireRoot();
        Path map = write("users.map", "alice@corp.example=alice\n");
        Files.setAttribute(map, "unix:uid", 65534);
        List<String> p = problems(write("desired.yaml", "users: [bob]\nusersFile: " + map + "\n"));
        assertEquals(1, p.size(), p.toString());
        assertTrue(p.get(0).contains(": usersFile: " + map + ": file is owned by nobody (uid 65534), not root"), p.get(0));
    }

    @Test
    void aRootOwnedPrivateFileIsTrusted() throws Exception {
        Path f = write("desired.yaml", "users: [alice]\n");
        requireRoot();
        assertEquals(java.util.Optional.empty(), FileTrust.untrusted(f));
    }

    @Test
    void theMetricsEndpointIsOnLoopbackUnlessTheOperatorWritesAnotherAddress() throws Exception {
        assertEquals("127.0.0.1:9464", DesiredStateLoader.parse("users: [alice]\n", dir.resolve("d.yaml")).controller().metricsAddress());
        assertEquals("0.0.0.0:9464", DesiredStateLoader.parse("users: [alice]\ncontroller: {metrics: \"0.0.0.0:9464\"}\n", dir.resolve("d.yaml")).controller().metricsAddress(),
                "another address only when written, as the operator's explicit choice");
        List<String> p = assertThrows(InvalidDesiredStateException.class,
                () -> DesiredStateLoader.parse("users: [alice]\ncontroller: {metrics: \"127.0.0.1:9464; rm -rf /\"}\n", dir.resolve("d.yaml")))
                .problems().stream().map(Problem::toString).toList();
        assertTrue(p.get(0).contains("controller.metrics"), p.toString());
    }

    /**
     * A value of 10,000 characters with a bell, an escape and a carriage return in it, in each kind of field: every
     * problem echoes it escaped (so a terminal shows the text, not the escape sequence) and cut to a bounded length.
     */
    @Test
    void echoedValuesAreEscapedAndCapped() throws Exception {
        String hostile = "x\\a\\e[2J\\r" + "y".repeat(10_000);
        Path f = write("desired.yaml", "package: \"" + hostile + "\"\npin: \"" + hostile + "\"\nusers: [alice, \"" + hostile + "\"]\n"
                + "install: {registry: \"https://" + hostile + "\", npm: \"/usr/bin/" + hostile + "\"}\n"
                + "controller: {metrics: \"" + hostile + "\"}\n");
        List<String> p = problems(f);
        assertEquals(6, p.size(), p.toString());
        for (String line : p) {
            String head = line.substring(0, Math.min(300, line.length()));
            assertTrue(line.length() < 600, "capped: " + line.length() + " chars: " + head);
            assertTrue(line.codePoints().noneMatch(c -> c < 0x20 || c == 0x7f), "no raw control character: " + head);
            if (line.contains(": pin: ")) {
                assertTrue(line.endsWith("pin: version is longer than 256 characters"), "the pin is not echoed at all: " + head);
                continue;
            }
            assertTrue(line.contains("x\\u0007\\u001b[2J\\u000d"), "escaped, still readable: " + head);
            assertTrue(line.contains("..."), "says it was cut: " + line);
        }
    }

    @Test
    void aRegistryUrlWithCredentialsIsRefusedWithoutEchoingThem() throws Exception {
        Path f = write("desired.yaml", "users: [alice]\ninstall:\n  registry: \"https://ci:hunter2@npm.example.com/\"\n");
        List<String> p = problems(f);
        assertEquals(1, p.size(), p.toString());
        assertTrue(p.get(0).startsWith(f + ":3:13: install.registry: 'https://***@npm.example.com/' carries credentials"), p.get(0));
        assertTrue(p.get(0).contains("npmrc"), "says where they belong: " + p.get(0));
        assertFalse(p.get(0).contains("hunter2") || p.get(0).contains("ci:"), "the secret is not repeated: " + p.get(0));
        assertEquals("https://npm.example.com/", DesiredStateLoader.parse("users: [alice]\ninstall: {registry: \"https://npm.example.com/\"}\n", f)
                .install().registry().orElseThrow().toString(), "without credentials it is accepted");
    }

    @ParameterizedTest
    @ValueSource(strings = {"-g", "--global", "-", ".hidden", "_private", "@-scope/t3", "@scope/-t3", "../t3", "t3 --registry=http://evil/"})
    void packageNamesNpmCouldReadAsAnOptionOrAPathFailValidate(String name) throws Exception {
        List<String> p = problems(write("desired.yaml", "package: \"" + name + "\"\nusers: [alice]\n"));
        assertEquals(1, p.size(), p.toString());
        assertTrue(p.get(0).contains(":1:10: package: ") && p.get(0).contains("is not an npm package name"), p.get(0));
    }

    private Path write(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    private static List<String> problems(Path f) {
        InvalidDesiredStateException e = assertThrows(InvalidDesiredStateException.class, () -> DesiredStateLoader.load(f));
        return e.problems().stream().map(Problem::toString).toList();
    }

    /** Fails, never skips, when not root: a skipped test here would hide that a root controller's check went untested. */
    static void requireRoot() {
        assertTrue(FileTrust.runningAsRoot(), "this test proves a check a root controller makes: run it as root (the suite does)");
    }
}
