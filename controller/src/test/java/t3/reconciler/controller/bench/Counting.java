package t3.reconciler.controller.bench;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.TreeMap;

/** Wraps an actuator interface: counts calls and the time spent in them, per {@code Interface.method}. */
final class Counting {
    final Map<String, long[]> calls = new TreeMap<>(); // name -> {calls, nanos}

    @SuppressWarnings("unchecked")
    <T> T wrap(Class<T> iface, T target) {
        return (T) Proxy.newProxyInstance(iface.getClassLoader(), new Class<?>[] {iface}, (proxy, m, args) -> {
            long t0 = System.nanoTime();
            try {
                return m.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            } finally {
                long dt = System.nanoTime() - t0;
                synchronized (calls) {
                    long[] c = calls.computeIfAbsent(iface.getSimpleName() + "." + m.getName(), k -> new long[2]);
                    c[0]++;
                    c[1] += dt;
                }
            }
        });
    }

    synchronized void reset() {
        synchronized (calls) {
            calls.clear();
        }
    }

    long count(String name) {
        synchronized (calls) {
            return calls.getOrDefault(name, new long[2])[0];
        }
    }

    double ms(String name) {
        synchronized (calls) {
            return calls.getOrDefault(name, new long[2])[1] / 1e6;
        }
    }

    long countPrefix(String prefix) {
        synchronized (calls) {
            return calls.entrySet().stream().filter(e -> e.getKey().startsWith(prefix)).mapToLong(e -> e.getValue()[0]).sum();
        }
    }
}
