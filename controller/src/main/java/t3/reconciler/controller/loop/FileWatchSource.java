package t3.reconciler.controller.loop;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import t3.reconciler.controller.log.Log;
import t3.reconciler.model.DesiredState;

/**
 * Fires when the desired-state file, the users file or the freeze file is written, replaced or removed. Their
 * directories are watched, not the files: editors that write a temp file and rename it are seen too. An edit that
 * moves one of them (a new users file, a new freeze file) moves the watch after the pass that applied it.
 */
public final class FileWatchSource implements TriggerSource {
    private final Path specFile;
    private final Log log;
    private volatile Watched watched;
    private WatchService watchService;
    private final Map<Path, WatchKey> keys = new HashMap<>();
    private Thread thread;
    private volatile boolean closed;

    /** @param initial the state in force at start, naming the users and freeze files */
    public FileWatchSource(Path specFile, DesiredState initial, Log log) {
        this.specFile = specFile;
        this.log = log;
        this.watched = Watched.of(specFile, initial);
    }

    /** The files whose edits trigger a pass, as the state in force names them. */
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

    @Override
    public void start(Triggers triggers) throws IOException {
        WatchService ws = specFile.toAbsolutePath().getFileSystem().newWatchService();
        synchronized (this) {
            watchService = ws;
            register(watched, true);
        }
        thread = new Thread(() -> watch(ws, triggers), "t3r-watch");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void afterPass(DesiredState inForce) {
        Watched w = Watched.of(specFile, inForce);
        synchronized (this) {
            // A directory that did not exist yet (or was removed) is tried again after every pass.
            if (watchService == null || (w.equals(watched) && keys.keySet().containsAll(w.dirs()))) return;
            register(w, false);
        }
    }

    /** Registers the directories {@code w} names and drops the ones it no longer does. */
    private void register(Watched w, boolean first) {
        Set<Path> dirs = w.dirs();
        keys.entrySet().removeIf(e -> {
            if (dirs.contains(e.getKey())) return false;
            e.getValue().cancel();
            return true;
        });
        for (Path d : dirs) {
            if (keys.containsKey(d) || !Files.isDirectory(d)) continue;
            try {
                keys.put(d, d.register(watchService, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE));
            } catch (IOException e) {
                log.error("watch", Log.kv("dir", d, "reason", "cannot watch it: " + e.getMessage() + "; resync and SIGHUP still work"));
            }
        }
        if (!first && !w.equals(watched)) log.info("watch", Log.kv("outcome", "moved", "spec", w.spec(), "users", w.users().orElse(null), "freezeFile", w.freeze()));
        watched = w;
    }

    private synchronized void forget(Path dir) { keys.remove(dir); }

    private void watch(WatchService ws, Triggers triggers) {
        try {
            while (!closed) {
                WatchKey key = ws.take();
                Path dir = (Path) key.watchable();
                for (var ev : key.pollEvents()) {
                    if (!(ev.context() instanceof Path name)) continue;
                    watched.why(dir.resolve(name), ev.kind() == StandardWatchEventKinds.ENTRY_DELETE).ifPresent(triggers::fire);
                }
                if (!key.reset()) forget(dir); // the directory went: registered again once it is back
            }
        } catch (ClosedWatchServiceException e) {
            if (!closed) log.error("watch", Log.kv("reason", "file watching stopped: " + e.getMessage() + "; resync and SIGHUP still work"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closed = true;
        WatchService ws;
        synchronized (this) {
            ws = watchService;
        }
        try {
            if (ws != null) ws.close();
        } catch (IOException ignored) {
            // closing: nothing left to watch for
        }
    }
}
