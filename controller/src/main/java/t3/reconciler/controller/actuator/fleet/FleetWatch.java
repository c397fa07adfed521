package t3.reconciler.controller.actuator.fleet;

import t3.reconciler.model.fleet.FleetFacts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import t3.reconciler.controller.log.Log;

/**
 * An etcd watch on the group's prefix, as a {@link ChangeSource}: every put or delete there (a slot taken or freed by
 * a lease running out, a verdict, the freeze, a promotion) fires the listeners; host statuses ({@code status/}) do not. Watch, not poll: an idle
 * fleet sends nothing. The stream resumes from the revision after the last one seen, so no change between
 * reconnects is lost; a lost stream (etcd away) also fires, since reachability is itself a fact.
 */
public final class FleetWatch implements ChangeSource, AutoCloseable {
    private static final Duration FIRST_RETRY = Duration.ofMillis(200);
    private static final Duration MAX_RETRY = Duration.ofSeconds(5);

    private final EtcdClient etcd;
    private final Keys keys;
    private final Log log;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final Thread thread;
    private volatile boolean closed;
    private volatile HttpResponse<Stream<String>> open;
    private long nextRevision;
    /** Whether the stream is up: a loss and a recovery each fire once, not every retry while etcd stays away. */
    private boolean connected = true;

    /** Watches from {@code fromRevision} (0: from now). Pass the revision after a {@link FleetFacts} read to miss nothing since. */
    public FleetWatch(EtcdClient etcd, Keys keys, long fromRevision, Log log) {
        this.etcd = etcd;
        this.keys = keys;
        this.log = log;
        this.nextRevision = fromRevision;
        this.thread = new Thread(this::run, "fleet-watch");
        thread.setDaemon(true);
    }

    @Override
    public void onChange(Runnable listener) {
        listeners.add(listener);
    }

    public FleetWatch start() {
        thread.start();
        return this;
    }

    private void run() {
        Duration wait = FIRST_RETRY;
        while (!closed) {
            try {
                watchOnce();
                wait = FIRST_RETRY;
            } catch (EtcdException | UncheckedIOException e) {
                if (closed) return;
                if (connected) {
                    // Once per outage, not once per retry.
                    log.warn("fleet-watch", Log.kv("reason", "stream lost, retrying every " + MAX_RETRY.toSeconds() + "s at most: " + e.getMessage()));
                    connected = false;
                    fire();
                }
            }
            if (closed) return;
            try {
                Thread.sleep(wait.toMillis()); // retry pacing while etcd is away, not synchronisation
            } catch (InterruptedException e) {
                return;
            }
            wait = wait.multipliedBy(2).compareTo(MAX_RETRY) > 0 ? MAX_RETRY : wait.multipliedBy(2);
        }
    }

    private void watchOnce() throws EtcdException {
        ObjectNode create = EtcdClient.JSON.createObjectNode();
        ObjectNode req = create.putObject("create_request")
                .put("key", EtcdClient.b64(keys.root()))
                .put("range_end", EtcdClient.b64(EtcdClient.prefixEnd(keys.root())))
                .put("progress_notify", true);
        if (nextRevision > 0) req.put("start_revision", Long.toString(nextRevision));
        HttpResponse<Stream<String>> resp = etcd.openWatch(create);
        open = resp;
        try (Stream<String> lines = resp.body()) {
            var it = lines.iterator();
            while (!closed && it.hasNext()) {
                String line = it.next();
                if (line.isBlank()) continue;
                JsonNode n;
                try {
                    n = EtcdClient.JSON.readTree(line);
                } catch (IOException e) {
                    throw new EtcdException("watch sent something other than JSON: " + e.getMessage(), e);
                }
                if (n.has("error")) throw new EtcdException("watch failed: " + n.get("error"));
                JsonNode result = n.path("result");
                long compacted = EtcdClient.num(result, "compact_revision", "compactRevision");
                if (compacted > 0) {
                    // The revision we would resume from is gone: start from now and let the listeners read everything again.
                    nextRevision = 0;
                    fire();
                    return;
                }
                if (EtcdClient.num(result, "canceled") != 0 || result.path("canceled").asBoolean(false)) {
                    throw new EtcdException("watch canceled by etcd: " + result.path("cancel_reason").asText(""));
                }
                if (!connected) {
                    // Back after an outage: what changed meanwhile comes as events from nextRevision, but etcd being
                    // reachable again is itself news.
                    connected = true;
                    log.info("fleet-watch", Log.kv("reason", "stream back from revision " + nextRevision));
                    fire();
                }
                JsonNode events = result.path("events");
                if (events.size() > 0) {
                    // Resume after the last event delivered, not after the header's revision: a stream cut short of the
                    // backlog must not skip it.
                    List<String> changed = new java.util.ArrayList<>();
                    for (JsonNode ev : events) {
                        nextRevision = Math.max(nextRevision, EtcdClient.num(ev.path("kv"), "mod_revision", "modRevision") + 1);
                        changed.add(EtcdClient.toKv(ev.path("kv")).key());
                    }
                    if (wakes(keys, changed)) fire();
                } else if (!result.path("created").asBoolean(false)) {
                    long revision = EtcdClient.num(result.path("header"), "revision");
                    if (revision > 0) nextRevision = Math.max(nextRevision, revision + 1);
                }
            }
        }
        if (!closed) throw new EtcdException("watch stream ended");
    }

    /**
     * Whether a change of these keys may change a decision. Statuses do not: they are display only, every host
     * publishes its own after each pass, and waking every other host for it would make each publish a pass on every
     * host (a storm that never settles).
     */
    static boolean wakes(Keys keys, List<String> changed) {
        return changed.stream().anyMatch(k -> !k.startsWith(keys.statuses()));
    }

    private void fire() {
        for (Runnable l : listeners) {
            try {
                l.run();
            } catch (RuntimeException e) {
                log.error("fleet-watch", Log.kv("reason", "listener failed: " + e));
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        HttpResponse<Stream<String>> r = open;
        if (r != null) r.body().close();
        thread.interrupt();
    }
}
