package t3.reconciler.controller.actuator.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

import org.freedesktop.dbus.DBusPath;
import org.freedesktop.dbus.types.UInt32;
import org.junit.jupiter.api.Test;

class JobTrackerTest {
    private static final String JOB = "/org/freedesktop/systemd1/job/7";
    private static final Instant LATER = Instant.now().plusSeconds(60);

    private static SystemdManager.JobRemoved removed(String job, String result) throws Exception {
        return new SystemdManager.JobRemoved(SystemdManager.OBJECT_PATH, new UInt32(7), new DBusPath(job), "a.service", result);
    }

    @Test
    void resultThatArrivesBeforeTheReplyIsKept() throws Exception {
        JobTracker t = new JobTracker();
        t.expect();
        t.handle(removed(JOB, "done"));

        assertEquals(Optional.of("done"), t.await(JOB, LATER, () -> true));
        t.release();
    }

    @Test
    void callersOfAMergedJobAllGetItsResult() throws Exception {
        JobTracker t = new JobTracker();
        t.expect();
        t.expect();
        CountDownLatch waiting = new CountDownLatch(2);
        CompletableFuture<Optional<String>> first = CompletableFuture.supplyAsync(() -> awaitAfter(t, waiting));
        CompletableFuture<Optional<String>> second = CompletableFuture.supplyAsync(() -> awaitAfter(t, waiting));
        waiting.await();
        t.handle(removed(JOB, "failed"));

        assertEquals(Optional.of("failed"), first.get());
        assertEquals(Optional.of("failed"), second.get());
    }

    @Test
    void signalsWithoutCallersAreNotKept() throws Exception {
        JobTracker t = new JobTracker();
        t.handle(removed(JOB, "done"));
        t.expect();

        assertEquals(Optional.empty(), t.await(JOB, LATER, () -> false));
    }

    @Test
    void emptyOnceTheDeadlineHasPassedOrTheBusIsGone() throws Exception {
        JobTracker t = new JobTracker();
        t.expect();

        assertEquals(Optional.empty(), t.await(JOB, Instant.now(), () -> true));
        assertEquals(Optional.empty(), t.await(JOB, LATER, () -> false));
    }

    private static Optional<String> awaitAfter(JobTracker t, CountDownLatch waiting) {
        try {
            // Count down while holding no lock: the signal may come before this thread waits, which is the point.
            waiting.countDown();
            return t.await(JOB, LATER, () -> true);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
