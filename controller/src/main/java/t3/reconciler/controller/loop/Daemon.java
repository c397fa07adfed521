package t3.reconciler.controller.loop;

import io.github.resilience4j.core.IntervalFunction;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import t3.reconciler.controller.log.Log;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.DesiredState;
import sun.misc.Signal;

/**
 * {@code run}: the long-running controller. One worker thread reconciles; triggers (resync timer, an edit of the
 * desired-state file, the freeze file appearing or going, SIGHUP) coalesce into the next pass. A pass that hits an
 * outage is retried with exponential backoff and jitter (resilience4j), never in a hot loop. SIGTERM stops at the
 * next step boundary, after finishing a rollback in progress (see {@link Reconciler}).
 */
public final class Daemon {
    private final SpecHolder spec;
    private final StateStore store;
    private final Reconciler reconciler;
    private final Metrics metrics;
    private final Clock clock;
    private final Log log;
    private final Alerter alerter;
    /** The held-back episode (since + reason) last alerted, so a gate that keeps failing alerts once, not every pass. */
    private String heldBackAlerted;
    private final Triggers triggers = new Triggers();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final IntervalFunction backoff = IntervalFunction.ofExponentialRandomBackoff(Duration.ofSeconds(5), 2.0, 0.5, Duration.ofMinutes(30));

    public Daemon(SpecHolder spec, StateStore store, Reconciler reconciler, Metrics metrics, Clock clock, Log log, Alerter alerter) {
        this.spec = spec;
        this.alerter = alerter;
        this.store = store;
        this.reconciler = reconciler.listener(new Reconciler.Listener() {
            @Override
            public void observed(t3.reconciler.model.ObservedState o) { metrics.observed(o, spec.lastEditValid()); }

            @Override
            public void step(t3.reconciler.controller.plan.Action a, Outcome o) { metrics.step(a, o.ok()); }
        });
        this.metrics = metrics;
        this.clock = clock;
        this.log = log;
    }

    public Triggers triggers() { return triggers; }

    /** Runs until SIGTERM (or {@link #stop()}); {@code once}: a single pass, then return its outcome. */
    public Reconciler.Result run(boolean once, boolean windowOverride) throws IOException, InterruptedException {
        DesiredState s = spec.current();
        Path pidFile = s.controller().pidFile();
        // A single pass acts as much as the daemon does: it takes the same lock, so it never runs beside one.
        try (FileChannel lockChannel = FileChannel.open(lockFileOf(s), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock lock = lockChannel.tryLock()) {
            if (lock == null) throw new IllegalStateException("another t3-reconciler holds " + lockFileOf(s) + "; refusing to run twice");
            if (once) return pass(Set.of("run --once"), windowOverride);
            return runLocked(s, pidFile, windowOverride);
        }
    }

    /** Holding the lock: only now is the pid file ours to write and, on the way out, to remove. */
    private Reconciler.Result runLocked(DesiredState s, Path pidFile, boolean windowOverride) throws IOException, InterruptedException {
        try {
            Files.createDirectories(pidFile.toAbsolutePath().getParent());
            Files.writeString(pidFile, ProcessHandle.current().pid() + "\n");
            metrics.serve(s.controller().metricsAddress());
            Signal.handle(new Signal("HUP"), sig -> {
                boolean override;
                try {
                    override = Files.deleteIfExists(overrideFileOf(spec.inForce()));
                } catch (IOException e) {
                    override = false;
                }
                if (override) triggers.fireWithWindowOverride("SIGHUP (window override)");
                else triggers.fire("SIGHUP");
            });
            // SIGTERM stops at the next step boundary and exits 0 (the JVM's default would exit 143, which systemd
            // counts as a failure); the shutdown hook below still covers SIGINT.
            Signal.handle(new Signal("TERM"), sig -> stop());
            Thread watcher = new Thread(this::watch, "t3r-watch");
            watcher.setDaemon(true);
            watcher.start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                stop();
                try {
                    stopped.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }, "t3r-shutdown"));
            log.info("started", Log.kv("pid", ProcessHandle.current().pid(), "spec", spec.file(), "stateDb", s.controller().stateDb(),
                    "metrics", s.controller().metricsAddress().equals("off") ? "off" : "http://" + s.controller().metricsAddress() + "/metrics"));
            loop();
            return Reconciler.Result.interrupted();
        } finally {
            Files.deleteIfExists(pidFile);
            metrics.close();
            stopped.countDown();
        }
    }

    private void loop() throws InterruptedException {
        Set<String> why = Set.of("start");
        boolean override = false;
        int failures = 0;
        while (!stopping.get()) {
            Reconciler.Result r = pass(why, override);
            Duration resync = spec.inForce().schedule().resync();
            Duration wait;
            if (r.transientFault()) {
                failures++;
                wait = Duration.ofMillis(backoff.apply(failures));
                log.warn("requeue", Log.kv("after", wait, "attempt", failures, "reason", "transient fault: " + r.error().or(() -> r.last().map(d -> d.reason())).orElse("?")));
            } else {
                failures = 0;
                wait = r.requeue().filter(d -> d.compareTo(resync) < 0).orElse(resync);
            }
            if (stopping.get()) break;
            Triggers.Fired f = triggers.await(wait, failures > 0 ? "backoff" : "resync");
            why = f.reasons();
            override = f.windowOverride();
        }
    }

    private Reconciler.Result pass(Set<String> why, boolean override) {
        Instant start = clock.instant();
        // With last-reconcile, lets 'reconcile --wait' tell a pass that started after its SIGHUP from one already running.
        store.reconcileStarted(start);
        if (override) store.event(start, "window-override", "-", "ok", "the operator asked for a bump outside the maintenance window");
        log.info("reconcile", Log.kv("trigger", String.join(",", why), "windowOverride", override ? "true" : null));
        Reconciler.Result r = reconciler.reconcile(spec::current, override, stopping::get);
        Instant end = clock.instant();
        metrics.reconciled(r, Duration.between(start, end), end);
        String summary = r.summary();
        store.reconcileEnded(end, r.outcome(), r.gate(), r.steps(), summary);
        afterPass();
        log.info("reconciled", Log.kv("outcome", r.outcome().label(), "steps", r.steps(), "tookMs", Duration.between(start, end).toMillis(), "reason", summary));
        alertIfHeldBack(end);
        return r;
    }

    /** What the pass's edits changed outside it: the watched files, and what 'status' says still needs a restart. */
    private void afterPass() {
        rewatch(spec.inForce());
        String restart = String.join(",", spec.restartNeeded());
        if (!store.get(RESTART_NEEDED).orElse("").equals(restart)) store.put(RESTART_NEEDED, restart);
    }

    /** The store key 'status' reads: the edited keys ({@link RestartKeys}) this running controller has not applied. */
    public static final String RESTART_NEEDED = "restart-needed";

    /** alerts.heldBackAfter: the controller's own alert (log, webhook) when the channel has moved on and we have not followed. */
    private void alertIfHeldBack(Instant now) {
        Optional<Metrics.HeldBack> h = metrics.heldBack();
        if (h.isEmpty()) return;
        Duration behind = Duration.between(h.get().since(), now);
        String key = h.get().since() + " " + h.get().reason();
        if (behind.compareTo(spec.inForce().alerts().heldBackAfter()) <= 0 || key.equals(heldBackAlerted)) return;
        heldBackAlerted = key;
        alerter.fire("T3HeldBack", "info", "the channel has had a newer version since " + h.get().since() + " (" + behind.toHours()
                + " h) that is not installed; held by the " + h.get().reason() + " gate", Map.of("reason", h.get().reason()));
    }

    public void stop() {
        stopping.set(true);
        triggers.fire("stop");
    }

    /** The files whose edits trigger a pass, as the state in force names them: an edit that moves one moves the watch. */
    record Watched(Path spec, Optional<Path> users, Path freeze) {
        static Watched of(Path specFile, DesiredState s) {
            return new Watched(specFile.toAbsolutePath(), s.usersFile().map(Path::toAbsolutePath), s.controller().freezeFile().toAbsolutePath());
        }

        Set<Path> dirs() {
            Set<Path> out = new HashSet<>();
            out.add(spec.getParent());
            users.ifPresent(u -> out.add(u.getParent()));
            out.add(freeze.getParent());
            return out;
        }

        Optional<String> why(Path p, boolean removed) {
            if (p.equals(spec)) return Optional.of("desired-state edited");
            if (users.equals(Optional.of(p))) return Optional.of("users file edited");
            if (p.equals(freeze)) return Optional.of("freeze file " + (removed ? "removed" : "changed"));
            return Optional.empty();
        }
    }

    private volatile Watched watched;
    private WatchService watchService;
    private final Map<Path, WatchKey> watchKeys = new java.util.HashMap<>();

    /** Registers the directories the state in force names and drops the ones it no longer does; cheap when nothing moved. */
    private synchronized void rewatch(DesiredState s) {
        Watched w = Watched.of(spec.file(), s);
        Set<Path> dirs = w.dirs();
        // A directory that did not exist yet (or was removed) is tried again after every pass.
        if (watchService == null || (w.equals(watched) && watchKeys.keySet().containsAll(dirs))) return;
        watchKeys.entrySet().removeIf(e -> {
            if (dirs.contains(e.getKey())) return false;
            e.getValue().cancel();
            return true;
        });
        for (Path d : dirs) {
            if (watchKeys.containsKey(d) || !Files.isDirectory(d)) continue;
            try {
                watchKeys.put(d, d.register(watchService, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE));
            } catch (IOException e) {
                log.error("watch", Log.kv("dir", d, "reason", "cannot watch it: " + e.getMessage() + "; resync and SIGHUP still work"));
            }
        }
        if (watched != null && !w.equals(watched)) log.info("watch", Log.kv("outcome", "moved", "spec", w.spec(), "users", w.users().orElse(null), "freezeFile", w.freeze()));
        watched = w;
    }

    private synchronized void forget(Path dir) { watchKeys.remove(dir); }

    /** Watches the directories of the desired-state, users and freeze files: editors that write a temp file and rename are seen too. */
    private void watch() {
        try (WatchService ws = spec.file().toAbsolutePath().getFileSystem().newWatchService()) {
            synchronized (this) {
                watchService = ws;
            }
            rewatch(spec.inForce());
            while (!stopping.get()) {
                WatchKey key = ws.take();
                Path dir = (Path) key.watchable();
                for (var ev : key.pollEvents()) {
                    if (!(ev.context() instanceof Path name)) continue;
                    watched.why(dir.resolve(name), ev.kind() == StandardWatchEventKinds.ENTRY_DELETE).ifPresent(triggers::fire);
                }
                if (!key.reset()) forget(dir); // the directory went: registered again once it is back
            }
        } catch (IOException | ClosedWatchServiceException e) {
            log.error("watch", Log.kv("reason", "file watching stopped: " + e.getMessage() + "; resync and SIGHUP still work"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public static Path lockFileOf(DesiredState s) { return s.controller().stateDb().resolveSibling(s.controller().stateDb().getFileName() + ".lock"); }

    /** Written by {@code reconcile --outside-window} before it sends SIGHUP; consumed by the handler, so it counts once. */
    public static Path overrideFileOf(DesiredState s) { return s.controller().stateDb().resolveSibling("window-override"); }
}
