package t3.reconciler.controller.actuator.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Candidate code runs on the node beside install.npm: its directory goes first on the fixed PATH, and only then. */
class AccountPathTest {
    final Account nobody = new Account("t3rr-nobody", 65000, 65000, Path.of("/nonexistent"));

    @Test
    void npmsDirectoryGoesFirstOnPath() throws Exception {
        assertEquals(Optional.of(Path.of("/opt/node24/bin")), Account.binDirOf(Path.of("/opt/node24/bin/npm")));
        List<String> argv = nobody.wrap(List.of("/bin/true"), Optional.empty(), List.of(), Account.binDirOf(Path.of("/opt/node24/bin/npm")));
        assertTrue(argv.contains("PATH=/opt/node24/bin:" + Account.PATH), argv.toString());
    }

    @Test
    void theDefaultNpmChangesNothing() throws Exception {
        assertEquals(Optional.empty(), Account.binDirOf(Path.of("/usr/bin/npm")));
        assertEquals(Optional.empty(), Account.binDirOf(Path.of("npm")), "a bare name has no directory of its own");
        assertEquals(Optional.empty(), Account.binDirOf(Path.of("/opt/a:b/npm")), "a colon would split PATH");
        assertTrue(nobody.wrap(List.of("/bin/true")).contains("PATH=" + Account.PATH));
    }
}
