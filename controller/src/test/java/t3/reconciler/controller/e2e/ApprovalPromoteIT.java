package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static t3.reconciler.controller.e2e.ApprovalBed.V0;
import static t3.reconciler.controller.e2e.ApprovalBed.V1;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import t3.reconciler.controller.store.StateStore;

/**
 * canary.approval: manual on the real bed: a healthy build waits before any user runs it, across a crash of the
 * daemon while it waits; the CLI's promote lets it through.
 */
class ApprovalPromoteIT {
    static final String[] USERS = {"t3ra-pa", "t3ra-pb"};

    @Test
    void aPausedBumpWaitsForPromoteThenReachesEveryUser() throws Exception {
        try (ApprovalBed a = new ApprovalBed("approval: manual", USERS)) {
            a.pausedOnV1(true);
            assertEquals(a.versionLink(V0), Files.readSymbolicLink(a.bed.link()), "the link does not move before promote");
            assertTrue(a.cli("status", "--no-registry").out().contains("Waiting:    awaiting-approval"));

            JsonNode done = a.answer("promote");
            assertEquals("converged", done.path("outcome").asText(), done + "\n" + a.daemon.tail());
            assertEquals(a.versionLink(V1), Files.readSymbolicLink(a.bed.link()));
            try (StateStore store = StateStore.open(a.bed.stateDb())) {
                assertEquals(Optional.of(V1), store.lastGood());
                assertTrue(store.events(Optional.empty(), 200).stream().anyMatch(e -> e.action().equals("approve") && e.outcome().equals("ok")), "the approval is in the event log");
                assertEquals(0, store.approvalRequests().size());
            }
            a.assertMetric("t3r_awaiting_approval", "0.0");
        }
    }
}
