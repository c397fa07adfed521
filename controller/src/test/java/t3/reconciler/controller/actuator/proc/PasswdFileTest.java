package t3.reconciler.controller.actuator.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PasswdFileTest {
    @TempDir Path dir;

    private Optional<Account> find(String nsswitch, String passwd, String name) throws IOException {
        Path n = Files.writeString(dir.resolve("nsswitch.conf"), nsswitch);
        Path p = Files.writeString(dir.resolve("passwd"), passwd);
        return PasswdFile.find(n, p, name);
    }

    private static final String PASSWD = "root:x:0:0:root:/root:/bin/bash\nalice:x:1001:1002:Alice:/home/alice:/bin/bash\nbob:x:1003:1003::/home/bob:/bin/sh\n";

    @Test
    void filesFirstAnswersFromTheFile() throws IOException {
        assertEquals(Optional.of(new Account("alice", 1001, 1002, Path.of("/home/alice"))),
                find("# comment\npasswd:         files systemd\ngroup: files\n", PASSWD, "alice"));
    }

    @Test
    void anotherSourceFirstOrNoLineIsLeftToGetent() throws IOException {
        assertEquals(Optional.empty(), find("passwd: sss files\n", PASSWD, "alice"));
        assertEquals(Optional.empty(), find("group: files\n#passwd: files\n", PASSWD, "alice"));
        assertEquals(Optional.empty(), find("passwd: compat\n", PASSWD, "alice"));
    }

    @Test
    void aNameNotInTheFileOrNisCompatEntriesAreLeftToGetent() throws IOException {
        assertEquals(Optional.empty(), find("passwd: files systemd\n", PASSWD, "carol"));
        assertEquals(Optional.empty(), find("passwd: files\n", PASSWD + "+@admins::::::\n", "alice"));
        // A prefix of a name is not the name.
        assertEquals(Optional.empty(), find("passwd: files\n", PASSWD, "ali"));
    }

    @Test
    void anUnparseableEntryIsLeftToGetent() throws IOException {
        assertEquals(Optional.empty(), find("passwd: files\n", "alice:x:notanumber:1:::/bin/sh\n", "alice"));
        assertEquals(Optional.empty(), find("passwd: files\n", "alice:x:1:1\n", "alice"));
    }

    @Test
    void agreesWithGetentOnThisMachine() throws Exception {
        // The machine's own files, and getent itself: what Account.lookup answered before it read the file.
        for (String name : new String[] {"root", "nobody"}) {
            Optional<Account> fromFile = PasswdFile.find(PasswdFile.NSSWITCH, PasswdFile.PASSWD, name);
            Exec.Result r = Exec.run(java.util.List.of("getent", "passwd", name), java.time.Duration.ofSeconds(10));
            assertTrue(r.ok(), "getent passwd " + name);
            String[] f = r.stdout().strip().split(":", -1);
            Account viaGetent = new Account(name, Integer.parseInt(f[2]), Integer.parseInt(f[3]), Path.of(f[5]));
            fromFile.ifPresent(a -> assertEquals(viaGetent, a, name));
            assertEquals(viaGetent, Account.lookup(name), name);
        }
    }
}
