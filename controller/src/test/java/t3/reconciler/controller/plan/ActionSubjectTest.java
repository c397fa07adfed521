package t3.reconciler.controller.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import t3.reconciler.model.Version;

/** The log's stable user/version keys come from the step itself, never from parsing its target text. */
class ActionSubjectTest {
    static final Version A = Version.parse("0.0.25-nightly.20260601.1"), B = Version.parse("0.0.25-nightly.20260608.2");

    @Test
    void aStepOnAUserNamesTheUserAndTheVersion() {
        assertEquals(Optional.of("alice"), new Action.Canary("alice", B).subjectUser());
        assertEquals(Optional.of(B), new Action.Canary("alice", B).subjectVersion());
        assertEquals(Optional.of("bob"), new Action.Restore("bob", Path.of("/b"), A).subjectUser());
        assertEquals(Optional.of(A), new Action.Restore("bob", Path.of("/b"), A).subjectVersion(), "the version the database goes back to");
        assertEquals(Optional.of(A), new Action.Backup("carol", A, true).subjectVersion(), "the version the database is on");
    }

    @Test
    void aStepOnTheHostNamesOnlyItsVersion() {
        assertEquals(Optional.empty(), new Action.Install(B).subjectUser());
        assertEquals(Optional.of(B), new Action.Install(B).subjectVersion());
        assertEquals(Optional.of(A), new Action.RollbackBinary(A).subjectVersion());
        assertEquals(Optional.empty(), new Action.ResetBreaker().subjectVersion());
    }
}
