package t3.reconciler.controller.actuator.backup;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.Backups.Outcome;

/** Runs one step per user on a pool of bounded size made for the batch; each user's outcome stands on its own. */
final class Batch {
    @FunctionalInterface
    interface Step<R, T> {
        T apply(R request) throws ActuatorException;
    }

    static <R, T> List<Outcome<T>> run(List<R> requests, Function<R, String> userOf, int parallelism, Step<R, T> step) {
        if (parallelism < 1) throw new IllegalArgumentException("parallelism must be at least 1: " + parallelism);
        Set<String> seen = new HashSet<>();
        for (R r : requests) {
            if (!seen.add(userOf.apply(r))) throw new IllegalArgumentException("user " + userOf.apply(r) + " appears twice in one batch");
        }
        if (requests.isEmpty()) return List.of();
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(parallelism, requests.size()), r -> {
            Thread t = new Thread(r, "backup-batch");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Outcome<T>>> futures = new ArrayList<>();
            for (R r : requests) {
                String user = userOf.apply(r);
                futures.add(pool.submit(() -> {
                    try {
                        return Outcome.ok(user, step.apply(r));
                    } catch (ActuatorException e) {
                        return Outcome.failed(user, e);
                    } catch (RuntimeException e) {
                        return Outcome.failed(user, new ActuatorException(user + ": " + e, false, e));
                    }
                }));
            }
            List<Outcome<T>> out = new ArrayList<>();
            for (int i = 0; i < futures.size(); i++) {
                String user = userOf.apply(requests.get(i));
                try {
                    out.add(futures.get(i).get());
                } catch (ExecutionException e) {
                    out.add(Outcome.failed(user, new ActuatorException(user + ": " + e.getCause(), false, e.getCause())));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    out.add(Outcome.failed(user, ActuatorException.transientFault(user + ": interrupted while waiting for the batch", e)));
                }
            }
            return out;
        } finally {
            // An interrupt reaches each user-side process through its own bound (UserSide kills its tree on interrupt).
            pool.shutdownNow();
        }
    }

    private Batch() {}
}
