package t3.reconciler.controller.loop;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.Units;

/**
 * Starts units side by side, a bounded number at once: only for servers nobody is served by (users who are down after
 * a failed rollout), never for live ones, which are restarted one at a time. Each start waits for its own systemd job.
 */
final class ParallelStarts {
    /**
     * @param unitByUser the unit to start, by user
     * @return what failed, by user (empty: every unit started)
     */
    static Map<String, ActuatorException> start(Units units, Map<String, String> unitByUser, Duration timeout, int parallelism) {
        Map<String, ActuatorException> failed = new ConcurrentHashMap<>();
        if (unitByUser.isEmpty()) return failed;
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(parallelism, unitByUser.size()), r -> {
            Thread t = new Thread(r, "restore-down-start");
            t.setDaemon(true);
            return t;
        });
        try {
            List<String> users = new ArrayList<>(unitByUser.keySet());
            List<Future<?>> started = new ArrayList<>();
            for (String user : users) {
                started.add(pool.submit(() -> {
                    try {
                        units.start(unitByUser.get(user), timeout);
                    } catch (ActuatorException e) {
                        failed.put(user, e);
                    }
                }));
            }
            for (int i = 0; i < started.size(); i++) {
                String user = users.get(i);
                try {
                    started.get(i).get();
                } catch (ExecutionException e) {
                    failed.put(user, new ActuatorException("start of " + unitByUser.get(user) + ": " + e.getCause(), false, e.getCause()));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    failed.putIfAbsent(user, ActuatorException.transientFault("interrupted while starting " + unitByUser.get(user), e));
                }
            }
            return failed;
        } finally {
            pool.shutdownNow();
        }
    }

    private ParallelStarts() {}
}
