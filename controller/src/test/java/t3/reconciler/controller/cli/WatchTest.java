package t3.reconciler.controller.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.plan.Gate;
import t3.reconciler.controller.store.LastDecision;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.BreakerState;
import t3.reconciler.model.ObservedState;
import t3.reconciler.model.Version;

/**
 * {@code events --follow} and {@code status --watch} follow the store: driven by a write from another connection (as
 * the daemon's), each test waits (bounded) for the line it expects, never for a fixed time.
 */
class WatchTest {
    static final Duration POLL = Duration.ofMillis(20);
    static final Instant T0 = Instant.parse("2026-06-08T04:00:00Z");
    static final Version A = Version.parse("0.0.25-nightly.20260601.1");

    @TempDir Path dir;
    final AtomicBoolean stop = new AtomicBoolean();
    final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    final AtomicReference<Throwable> failed = new AtomicReference<>();
    Thread watcher;

    /** Every complete line written, as it is written. */
    PrintStream capture() {
        return new PrintStream(new OutputStream() {
            final StringBuilder line = new StringBuilder();

            @Override public synchronized void write(int b) {
                if (b == '\n') {
                    lines.add(line.toString());
                    line.setLength(0);
                } else {
                    line.append((char) b);
                }
            }
        }, true, StandardCharsets.UTF_8);
    }

    void start(Runnable body) {
        watcher = new Thread(body, "watch");
        watcher.start();
    }

    String next() throws InterruptedException {
        String l = lines.poll(30, TimeUnit.SECONDS);
        assertNotNull(l, () -> "no output within 30 s" + (failed.get() == null ? "" : ": " + failed.get()));
        return l;
    }

    @AfterEach
    void stopWatcher() throws InterruptedException {
        stop.set(true);
        if (watcher != null) watcher.join(30_000);
    }

    @Test
    void eventsFollowPrintsTheTailThenEachNewEvent() throws Exception {
        Path db = dir.resolve("state.db");
        try (StateStore daemon = StateStore.open(db); StateStore cli = StateStore.open(db)) {
            daemon.event(T0, "start-rollout", A.toString(), "ok", "first");
            PrintStream out = capture();
            start(() -> {
                try {
                    EventsCommand.follow(cli, Optional.empty(), 100, out, POLL, stop::get);
                } catch (Throwable t) {
                    failed.set(t);
                }
            });
            assertTrue(next().endsWith("start-rollout " + A + " [ok] first"));
            daemon.event(T0.plusSeconds(1), "hold:awaiting-approval", "-", "ok", "second");
            assertTrue(next().endsWith("hold:awaiting-approval - [ok] second"));
            daemon.event(T0.plusSeconds(2), "approve", A.toString(), "ok", "third");
            assertTrue(next().endsWith("approve " + A + " [ok] third"));
            assertNull(lines.poll(), "each event once");
        }
    }

    @Test
    void statusWatchPrintsOneLinePerChangeWhenNotATerminal() throws Exception {
        Path db = dir.resolve("state.db");
        ObservedState obs = new ObservedState(T0, Optional.of(A), Set.of(A), Optional.of(A), ObservedState.Candidate.of(A), List.of(),
                Optional.empty(), BreakerState.closed(), Set.of(), Optional.empty(), false);
        try (StateStore daemon = StateStore.open(db); StateStore cli = StateStore.open(db)) {
            StatusWatch view = new StatusWatch(capture(), false);
            start(() -> {
                try {
                    StoreWatch.follow(cli, POLL, stop::get, () -> view.changed(() -> "unused", StatusWatch.oneLine(obs, cli.lastDecision()), T0));
                } catch (Throwable t) {
                    failed.set(t);
                }
            });
            assertTrue(next().endsWith(" gate=- users="), "the first state");
            // A write that changes nothing the line shows prints nothing; the next change prints one line.
            daemon.event(T0, "backup", "alice", "ok", "daily");
            daemon.recordDecision(new LastDecision("hold", Optional.of(Gate.AWAITING_APPROVAL), "waiting for promote"));
            assertTrue(next().contains(" gate=awaiting-approval "));
            daemon.recordDecision(new LastDecision("converged", Optional.empty(), "done"));
            assertTrue(next().contains(" gate=- "));
            assertNull(lines.poll(), "one line per change");
        }
    }

    @Test
    void statusWatchRedrawsTheWholeScreenInATerminal() {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        StatusWatch view = new StatusWatch(new PrintStream(bytes, true, StandardCharsets.UTF_8), true);
        view.changed(() -> "Spec: x\nUsers:\n", "line-1", T0);
        view.changed(() -> "Spec: y\nUsers:\n", "line-2", T0);
        assertEquals("\033[H\033[2JSpec: x\nUsers:\n\033[H\033[2JSpec: y\nUsers:\n", bytes.toString(StandardCharsets.UTF_8));
    }
}
