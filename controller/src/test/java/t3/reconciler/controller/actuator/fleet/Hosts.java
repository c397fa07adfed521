package t3.reconciler.controller.actuator.fleet;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintStream;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import t3.reconciler.controller.log.Log;
import t3.reconciler.model.DesiredState;

/** Test hosts: each a {@link Fleet} of its own (own client, own lease), as separate controllers would be. */
final class Hosts implements AutoCloseable {
    static final Log LOG = new Log(new PrintStream(System.out, true), Log.Format.JSON, Clock.systemUTC());

    private final List<Fleet> opened = new ArrayList<>();
    private final List<URI> endpoints;
    private final String group;

    Hosts(List<URI> endpoints, String group) {
        this.endpoints = endpoints;
        this.group = group;
    }

    Fleet host(String id, int max, Duration ttl) throws EtcdException {
        return host(id, max, ttl, List.of(), Duration.ofHours(1));
    }

    Fleet host(String id, int max, Duration ttl, List<String> canaries, Duration soak) throws EtcdException {
        var spec = new DesiredState.Fleet(endpoints, Optional.empty(), group, Optional.of(id), max, canaries, soak, ttl);
        Fleet f = new Fleet(spec, id, Clock.systemUTC(), LOG);
        synchronized (opened) {
            opened.add(f);
        }
        return f;
    }

    @Override
    public void close() {
        synchronized (opened) {
            opened.forEach(Fleet::close);
        }
    }

    /** Counts the changes a watch reports, so a test waits for the next one instead of sleeping. */
    static final class Changes {
        private final Semaphore seen = new Semaphore(0);

        Changes(ChangeSource source) {
            source.onChange(seen::release);
        }

        /** Forgets the changes seen so far. */
        void drain() { seen.drainPermits(); }

        /** Fails unless a change is reported within {@code within}. */
        void next(Duration within, String what) throws InterruptedException {
            assertTrue(seen.tryAcquire(within.toMillis(), TimeUnit.MILLISECONDS), "no change reported within " + within + ": " + what);
        }

        /** Returns once {@code condition} holds, re-checking it after each change; fails if no change comes for {@code quiet}. */
        void until(BooleanSupplier condition, Duration quiet, String what) throws InterruptedException {
            while (!condition.getAsBoolean()) {
                assertTrue(seen.tryAcquire(quiet.toMillis(), TimeUnit.MILLISECONDS), "no change within " + quiet + " while waiting for: " + what);
                seen.drainPermits();
            }
        }
    }
}
