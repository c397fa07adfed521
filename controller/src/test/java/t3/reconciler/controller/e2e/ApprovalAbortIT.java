package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static t3.reconciler.controller.e2e.ApprovalBed.V0;
import static t3.reconciler.controller.e2e.ApprovalBed.V1;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import t3.reconciler.controller.store.Event;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.Rollout;

/** canary.pauseAfter: 1 on the real bed: one user runs the new build, the CLI's abort rolls back and restores exactly that user. */
class ApprovalAbortIT {
    static final String[] USERS = {"t3ra-aa", "t3ra-ab"};

    @Test
    void abortRollsBackAndRestoresEveryUserTheBumpTouched() throws Exception {
        try (ApprovalBed a = new ApprovalBed("pauseAfter: 1", USERS)) {
            a.pausedOnV1();
            Rollout paused;
            try (StateStore store = StateStore.open(a.bed.stateDb())) {
                paused = store.rollout().orElseThrow();
            }
            assertEquals(1, paused.verified().size(), "paused after one verified user: " + paused);
            String touched = paused.verified().iterator().next();
            String untouched = touched.equals(USERS[0]) ? USERS[1] : USERS[0];
            assertEquals(a.versionLink(V1), Files.readSymbolicLink(a.bed.link()));

            JsonNode done = a.answer("abort");
            assertEquals("held", done.path("outcome").asText(), "held by the breaker the abort opened: " + done + "\n" + a.daemon.tail());
            assertEquals(a.versionLink(V0), Files.readSymbolicLink(a.bed.link()), "the link is back on " + V0);
            try (StateStore store = StateStore.open(a.bed.stateDb())) {
                List<Event> events = store.events(Optional.empty(), 500);
                assertTrue(events.stream().anyMatch(e -> e.action().equals("abort") && e.outcome().equals("ok")), "the abort is in the event log");
                assertTrue(events.stream().anyMatch(e -> e.action().equals("restore") && e.target().equals(touched) && e.outcome().equals("ok")), touched + " ran " + V1 + " and is restored");
                assertFalse(events.stream().anyMatch(e -> e.action().equals("restore") && e.target().equals(untouched)), untouched + " never ran " + V1);
                assertTrue(store.blocked().contains(V1));
                assertTrue(store.rollout().isEmpty(), "the rollout is closed");
                assertEquals(0, store.approvalRequests().size());
            }
        }
    }
}
