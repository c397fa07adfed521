package t3.reconciler.controller.loop;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import io.github.resilience4j.core.IntervalFunction;
import t3.reconciler.controller.crash.CrashPoints;
import t3.reconciler.controller.fake.FakeActuators;
import t3.reconciler.controller.fake.FakeSpec;
import t3.reconciler.controller.fake.RecordingAlerter;
import t3.reconciler.controller.fake.StepClock;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.Version;

/**
 * A {@link Daemon} in process on the fake actuators: a hand-fired timer, the real file watch (when asked for), a temp
 * state DB, a clock that moves only when read or told. Passes are handed to the test as they end; waits are bounded
 * only so a broken loop fails the test instead of hanging it, never to let something happen.
 */
final class DaemonBed implements AutoCloseable {
    static final Version A = Version.parse("0.0.25-nightly.20260601.1");
    static final Version B = Version.parse("0.0.25-nightly.20260608.2");
    static final Version C = Version.parse("0.0.25-nightly.20260615.3");
    /** A hang guard: no pass of these tests takes more than a fraction of it. */
    static final long GUARD_SECONDS = 60;

    final Path dir;
    final DesiredState spec;
    final StepClock clock = new StepClock(Instant.parse("2026-06-08T04:00:00Z"));
    final FakeActuators fx;
    final RecordingAlerter alerts = new RecordingAlerter();
    final ManualTimer timer = new ManualTimer();
    final BlockingQueue<Daemon.Pass> passes = new LinkedBlockingQueue<>();
    final StateStore store;
    final Daemon daemon;
    private CompletableFuture<Reconciler.Result> running;

    /** Alice and bob on A, both backed up today, the registry's nightly at A: a machine that is converged. */
    DaemonBed(Path dir, String extraYaml, boolean watchFiles, IntervalFunction backoff) throws Exception {
        this.dir = dir;
        this.spec = FakeSpec.write(dir, List.of("alice", "bob"), extraYaml);
        this.fx = new FakeActuators(dir, FakeSpec.UNIT, clock);
        fx.settledOn(A, List.of("alice", "bob"));
        Log log = Log.toStderr(clock);
        SpecHolder holder = new SpecHolder(specFile(), spec, log);
        store = StateStore.open(spec.controller().stateDb());
        HeldBack held = HeldBack.persistedIn(store);
        Reconciler reconciler = new Reconciler(fx.actuators(), store, clock, log, alerts, CrashPoints.none());
        daemon = new Daemon(holder, store, reconciler, new Metrics(holder, held), held, clock, log, alerts)
                .sources(timer, watchFiles ? List.of(new FileWatchSource(specFile(), spec, log)) : List.of())
                .requeue(new Requeue(backoff))
                .onPass(passes::add);
    }

    DaemonBed(Path dir) throws Exception { this(dir, "", false, Requeue.defaultBackoff()); }

    Path specFile() { return dir.resolve("desired-state.yaml"); }

    DaemonBed start() {
        running = CompletableFuture.supplyAsync(() -> {
            try {
                return daemon.run(false, false);
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        });
        return this;
    }

    Daemon.Pass nextPass() throws InterruptedException {
        Daemon.Pass p = passes.poll(GUARD_SECONDS, TimeUnit.SECONDS);
        assertNotNull(p, "no pass ended");
        return p;
    }

    /** Waits until the loop is idle again: it arms the timer after every pass, just before it waits for a trigger. */
    ManualTimer.Armed nextArming() throws InterruptedException {
        ManualTimer.Armed a = timer.armed.poll(GUARD_SECONDS, TimeUnit.SECONDS);
        assertNotNull(a, "the timer was never armed");
        return a;
    }

    /** The first pass (trigger "start") and the idle loop after it. */
    Daemon.Pass started() throws InterruptedException {
        Daemon.Pass p = nextPass();
        nextArming();
        return p;
    }

    Reconciler.Result stopAndJoin() throws Exception {
        daemon.stop();
        Reconciler.Result r = running.get(GUARD_SECONDS, TimeUnit.SECONDS);
        assertTrue(daemon.awaitStopped(Duration.ZERO));
        return r;
    }

    @Override
    public void close() throws Exception {
        if (running != null && !running.isDone()) stopAndJoin();
        store.close();
    }
}
