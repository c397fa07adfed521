package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import t3.reconciler.controller.cli.Main;
import t3.reconciler.controller.store.Event;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.controller.testbed.TricklingServer;
import t3.reconciler.model.BreakerState;
import t3.reconciler.model.Version;

/**
 * The alert webhook answers with headers and then trickles its body, one byte a second, for as long as the test
 * lets it. Before: the breaker's alert was POSTed inside the open-breaker step, and the JDK's request timeout stops
 * at the headers, so the rollback never started. Now delivery is queued off the step: a build that fails its canary
 * on the bed is rolled back all the way while no webhook exchange has ever been let finish.
 */
class HungWebhookRollbackIT {
    static final String[] USERS = {"t3sc-hook-ann", "t3sc-hook-ben"};
    static final Version V0 = Version.parse("0.0.25-nightly.20260601.1");
    static final Version BAD = Version.parse("0.0.25-nightly.20260608.3");
    static Bed bed;
    static TricklingServer webhook;
    static final ExecutorService pool = Executors.newCachedThreadPool();

    @BeforeAll
    static void up() throws Exception {
        bed = Bed.fresh(USERS);
        webhook = TricklingServer.start("");
        Files.writeString(bed.spec, "alerts: {webhook: \"" + webhook.uri("/api/v2/alerts") + "\"}\n", StandardOpenOption.APPEND);
    }

    @AfterAll
    static void down() throws Exception {
        if (webhook != null) webhook.close();
        pool.shutdownNow();
        if (bed != null) bed.close();
    }

    @Test
    void aCanaryFailureIsRolledBackWhileTheWebhookTricklesItsAnswer() throws Exception {
        bed.publish(BAD.toString(), "crash-under-systemd", "nightly");

        // Bounded only so that the old behaviour (a step that never returns) fails instead of hanging the build.
        Future<Integer> run = pool.submit(() -> Main.run("run", "--once", "-f", bed.spec.toString()));
        assertEquals(Main.REFUSED, run.get(5, TimeUnit.MINUTES), "the pass ends held by the open breaker");

        assertEquals(bed.dir.resolve("versions/" + V0 + "/bin/t3"), Files.readSymbolicLink(bed.link()), "the link is back on " + V0);
        Event done;
        try (StateStore store = StateStore.open(bed.stateDb())) {
            List<Event> events = store.events(Optional.empty(), 1000);
            done = events.stream().filter(e -> e.action().equals("finish-rollback") && e.target().equals(BAD.toString())).findFirst()
                    .orElseThrow(() -> new AssertionError("the rollback finished: " + events));
            assertEquals("ok", done.outcome(), done.toString());
            assertEquals(BreakerState.Status.OPEN, store.breaker().status(), "breaker open");
            assertTrue(store.blocked().contains(BAD));
        }
        assertTrue(webhook.arrived.availablePermits() >= 1 && webhook.firstRequest.get().isBefore(done.at()), "the breaker's alert reached the webhook before the rollback finished");
        assertEquals(0, webhook.finished.get(), "no answer was ever complete, yet the rollback went through");
    }
}
