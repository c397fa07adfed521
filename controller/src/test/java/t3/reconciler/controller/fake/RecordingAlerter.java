package t3.reconciler.controller.fake;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import t3.reconciler.controller.loop.Alerter;

/** Keeps every alert fired, in order, so a test can say which fired and how often. */
public final class RecordingAlerter implements Alerter {
    public record Fired(String name, String severity, String summary, Map<String, String> labels) {}

    private final List<Fired> fired = new ArrayList<>();

    @Override
    public synchronized void fire(String name, String severity, String summary, Map<String, String> labels) {
        fired.add(new Fired(name, severity, summary, Map.copyOf(labels)));
    }

    @Override
    public synchronized void resolve(String name, String severity, Map<String, String> labels) {
        resolved.add(new Fired(name, severity, "", Map.copyOf(labels)));
    }

    private final List<Fired> resolved = new ArrayList<>();

    /** What was resolved, in order, as {@code name labels}. */
    public synchronized List<String> resolved() { return resolved.stream().map(f -> f.name() + " " + new java.util.TreeMap<>(f.labels())).toList(); }

    public synchronized List<Fired> all() { return List.copyOf(fired); }

    public synchronized List<String> names() { return fired.stream().map(Fired::name).toList(); }
}
