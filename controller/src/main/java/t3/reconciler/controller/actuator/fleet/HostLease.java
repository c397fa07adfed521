package t3.reconciler.controller.actuator.fleet;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import t3.reconciler.controller.log.Log;

/**
 * The one lease a controller holds its slot and publishes its status under, renewed every third of its TTL. A lease
 * that etcd let expire (the host was cut off or stalled past the TTL) is not revived: its slot is gone and may already
 * be someone else's, so {@link #lost} says so until the next {@link #id} grants a fresh one.
 */
public final class HostLease implements AutoCloseable {
    private final EtcdClient etcd;
    private final Duration ttl;
    private final Log log;
    private final ScheduledExecutorService renewer;
    private long id;
    private boolean lost;

    public HostLease(EtcdClient etcd, Duration ttl, Log log) {
        this.etcd = etcd;
        this.ttl = ttl;
        this.log = log;
        this.renewer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "fleet-lease");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(1, ttl.toMillis() / 3);
        renewer.scheduleWithFixedDelay(this::renewQuietly, every, every, TimeUnit.MILLISECONDS);
    }

    public Duration ttl() { return ttl; }

    /** The live lease, granted on first use or after the last one was lost. */
    public synchronized long id() throws EtcdException {
        if (id == 0) {
            id = etcd.grant(ttl);
            lost = false;
            log.info("fleet-lease", Log.kv("lease", Long.toHexString(id), "ttl", ttl.toSeconds() + "s", "reason", "granted"));
        }
        return id;
    }

    /** The lease currently held, 0 when none: what slot keys are compared against without granting one. */
    public synchronized long current() { return id; }

    /** A lease this controller held expired before it was renewed: its slot and status key are gone. */
    public synchronized boolean lost() { return lost; }

    /** Renews now; false when the lease had already expired. */
    public boolean renew() throws EtcdException {
        long held;
        synchronized (this) {
            held = id;
        }
        if (held == 0) return false;
        long left = etcd.keepAlive(held);
        if (left > 0) return true;
        synchronized (this) {
            if (id == held) {
                id = 0;
                lost = true;
                log.warn("fleet-lease", Log.kv("lease", Long.toHexString(held), "reason", "expired before it was renewed: slot and status are gone"));
            }
        }
        return false;
    }

    private void renewQuietly() {
        try {
            renew();
        } catch (EtcdException e) {
            // etcd away: the next tick tries again; if it stays away past the TTL the lease is reported lost then.
            log.warn("fleet-lease", Log.kv("reason", "renewal failed: " + e.getMessage()));
        } catch (RuntimeException e) {
            log.error("fleet-lease", Log.kv("reason", "renewal failed: " + e));
        }
    }

    /** Stops renewing and revokes the lease: a clean stop frees the slot and the status key at once, not after the TTL. */
    @Override
    public void close() {
        renewer.shutdownNow();
        long held;
        synchronized (this) {
            held = id;
            id = 0;
        }
        if (held != 0) {
            try {
                etcd.revoke(held);
            } catch (EtcdException e) {
                log.warn("fleet-lease", Log.kv("lease", Long.toHexString(held), "reason", "revoke failed, expires after the TTL: " + e.getMessage()));
            }
        }
    }

    /** Stops renewing without revoking: what a killed controller leaves behind (tests of the TTL). */
    public void abandon() {
        renewer.shutdownNow();
    }
}
