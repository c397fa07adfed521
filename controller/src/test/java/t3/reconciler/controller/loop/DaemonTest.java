package t3.reconciler.controller.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static t3.reconciler.controller.loop.DaemonBed.A;
import static t3.reconciler.controller.loop.DaemonBed.B;
import static t3.reconciler.controller.loop.DaemonBed.C;

import io.github.resilience4j.core.IntervalFunction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.plan.Gate;
import t3.reconciler.controller.plan.PassOutcome;
import t3.reconciler.controller.plan.Action;
import t3.reconciler.model.Channel;

/** The daemon's triggers, in process: what wakes it, what it coalesces, when it looks again, and how it stops. */
class DaemonTest {
    static final Duration RESYNC = Duration.ofMinutes(15);

    @TempDir Path dir;

    static Optional<Gate> gate(Daemon.Pass p) {
        return p.result().last().map(d -> d.action()).filter(a -> a instanceof Action.Hold).map(a -> ((Action.Hold) a).gate());
    }

    @Test
    void anEditOfTheDesiredStateFileTriggersAPass() throws Exception {
        try (DaemonBed bed = new DaemonBed(dir, "", true, Requeue.defaultBackoff()).start()) {
            assertEquals(Set.of("start"), bed.started().why());
            Files.writeString(bed.specFile(), Files.readString(bed.specFile()) + "# edited\n");
            Daemon.Pass p = bed.nextPass();
            assertTrue(p.why().contains("desired-state edited"), p.why().toString());
        }
    }

    @Test
    void theFreezeFileAppearingTriggersAPassThatHolds() throws Exception {
        try (DaemonBed bed = new DaemonBed(dir, "", true, Requeue.defaultBackoff()).start()) {
            assertEquals(PassOutcome.CONVERGED, bed.started().result().outcome());
            bed.fx.registry.publish(Channel.NIGHTLY, B); // something to hold back, so the hold is the freeze's doing
            Files.writeString(bed.spec.controller().freezeFile(), "maintenance\n");
            Daemon.Pass p = bed.nextPass();
            assertTrue(p.why().contains("freeze file changed"), p.why().toString());
            assertEquals(Optional.of(Gate.FREEZE), gate(p));
            assertEquals(List.of(), bed.fx.calls("packages.install"));
        }
    }

    @Test
    void afterAPassTheTimerIsArmedWithTheResyncPeriodAndItsFiringIsAPass() throws Exception {
        try (DaemonBed bed = new DaemonBed(dir).start()) {
            bed.nextPass();
            assertEquals(new ManualTimer.Armed(RESYNC, "resync"), bed.nextArming());
            bed.timer.elapse();
            assertEquals(Set.of("resync"), bed.nextPass().why());
            // A hold that knows when to look again comes back sooner than the resync: a busy user's deferral.
            bed.fx.registry.publish(Channel.NIGHTLY, B);
            bed.fx.busy.busy("alice");
            bed.fx.busy.busy("bob");
            assertEquals(RESYNC, bed.nextArming().after());
            bed.timer.elapse();
            assertEquals(Optional.of(Gate.BUSY), gate(bed.nextPass()));
            assertEquals(new ManualTimer.Armed(bed.spec.canary().deferRecheck(), "resync"), bed.nextArming());
        }
    }

    @Test
    void triggersThatArriveDuringAPassCoalesceIntoOneMorePass() throws Exception {
        CountDownLatch inPass = new CountDownLatch(1), release = new CountDownLatch(1);
        AtomicBoolean first = new AtomicBoolean(true);
        try (DaemonBed bed = new DaemonBed(dir)) {
            bed.fx.hook(call -> {
                if (call.startsWith("packages.resolve") && first.getAndSet(false)) {
                    inPass.countDown();
                    await(release);
                }
            });
            bed.start();
            await(inPass);
            bed.daemon.triggers().fire("SIGHUP");
            bed.daemon.triggers().fire("desired-state edited");
            bed.daemon.triggers().fire("SIGHUP");
            bed.daemon.triggers().fire("freeze file removed");
            release.countDown();
            assertEquals(Set.of("start"), bed.nextPass().why());
            bed.nextArming();
            assertEquals(Set.of("SIGHUP", "desired-state edited", "freeze file removed"), bed.nextPass().why(), "one pass for all four");
            bed.nextArming();
            bed.timer.elapse();
            assertEquals(Set.of("resync"), bed.nextPass().why(), "nothing left over from the burst");
        }
    }

    @Test
    void anOutageBacksOffLongerEachTimeAndAPassThatWorksResetsIt() throws Exception {
        try (DaemonBed bed = new DaemonBed(dir, "", false, IntervalFunction.ofExponentialBackoff(Duration.ofSeconds(5), 2.0))) {
            bed.fx.registry.registryDown();
            bed.start();
            assertEquals(Optional.of(Gate.RESOLVE), gate(bed.nextPass()));
            assertEquals(new ManualTimer.Armed(Duration.ofSeconds(5), "backoff"), bed.nextArming());
            bed.timer.elapse();
            assertEquals(Set.of("backoff"), bed.nextPass().why());
            assertEquals(new ManualTimer.Armed(Duration.ofSeconds(10), "backoff"), bed.nextArming());
            bed.fx.registry.registryUp();
            bed.timer.elapse();
            assertEquals(PassOutcome.CONVERGED, bed.nextPass().result().outcome());
            assertEquals(new ManualTimer.Armed(RESYNC, "resync"), bed.nextArming());
            bed.fx.units.busDown(); // another outage starts again from the first wait
            bed.timer.elapse();
            assertEquals(PassOutcome.ERROR, bed.nextPass().result().outcome());
            assertEquals(new ManualTimer.Armed(Duration.ofSeconds(5), "backoff"), bed.nextArming());
        }
    }

    @Test
    void theShippedBackoffJittersAroundFiveSecondsAndIsCapped() {
        IntervalFunction f = Requeue.defaultBackoff();
        for (int i = 0; i < 50; i++) {
            long first = f.apply(1);
            assertTrue(first >= 2_500 && first <= 7_500, first + " ms");
            assertTrue(f.apply(40) <= Duration.ofMinutes(30).toMillis());
        }
    }

    @Test
    void aStopDuringAStepEndsThePassAtTheNextStepBoundary() throws Exception {
        CountDownLatch inStep = new CountDownLatch(1), release = new CountDownLatch(1);
        try (DaemonBed bed = new DaemonBed(dir)) {
            bed.fx.registry.publish(Channel.NIGHTLY, B);
            bed.fx.hook(call -> {
                if (call.equals("units.restart t3-serve@alice.service")) {
                    inStep.countDown();
                    await(release);
                }
            });
            bed.start();
            await(inStep);
            bed.daemon.stop();
            release.countDown();
            Daemon.Pass p = bed.nextPass();
            assertEquals(PassOutcome.INTERRUPTED, p.result().outcome());
            assertEquals(Optional.of(B), bed.fx.units.runs("alice"), "the step in flight finished");
            assertEquals(Optional.of(A), bed.fx.units.runs("bob"), "no step after it");
            assertEquals(PassOutcome.INTERRUPTED, bed.stopAndJoin().outcome());
            assertFalse(Files.exists(bed.spec.controller().pidFile()), "the pid file goes with the daemon");
            assertTrue(bed.timer.armed.isEmpty(), "no wait armed after a stop");
        }
    }

    @Test
    void heldBackAlertsOncePerEpisode() throws Exception {
        try (DaemonBed bed = new DaemonBed(dir, "alerts:\n  heldBackAfter: 1h\n", false, Requeue.defaultBackoff())) {
            Files.writeString(bed.spec.controller().freezeFile(), "maintenance\n");
            bed.fx.registry.publish(Channel.NIGHTLY, B);
            bed.start();
            assertEquals(Optional.of(Gate.FREEZE), gate(bed.started()));
            assertEquals(List.of(), bed.alerts.names(), "not behind long enough yet");

            bed.clock.advance(Duration.ofHours(2));
            bed.timer.elapse();
            bed.nextPass();
            bed.nextArming();
            assertEquals(List.of("T3HeldBack"), bed.alerts.names());
            bed.clock.advance(Duration.ofHours(2));
            bed.timer.elapse();
            bed.nextPass();
            bed.nextArming();
            assertEquals(List.of("T3HeldBack"), bed.alerts.names(), "the same episode alerts once");

            Files.delete(bed.spec.controller().freezeFile()); // the bump goes through: the episode ends
            bed.timer.elapse();
            assertEquals(PassOutcome.CONVERGED, bed.nextPass().result().outcome());
            bed.nextArming();
            assertEquals(Optional.of(B), bed.store.lastGood());

            Files.writeString(bed.spec.controller().freezeFile(), "maintenance again\n");
            bed.fx.registry.publish(Channel.NIGHTLY, C);
            bed.timer.elapse();
            bed.nextPass();
            bed.nextArming();
            bed.clock.advance(Duration.ofHours(2));
            bed.timer.elapse();
            bed.nextPass();
            bed.nextArming();
            assertEquals(List.of("T3HeldBack", "T3HeldBack"), bed.alerts.names(), "a new episode alerts again");
        }
    }

    static void await(CountDownLatch l) {
        try {
            if (!l.await(DaemonBed.GUARD_SECONDS, TimeUnit.SECONDS)) throw new AssertionError("latch never opened");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
