package t3.reconciler.controller.loop;

import java.time.Instant;
import java.util.Optional;
import t3.reconciler.controller.plan.Action;
import t3.reconciler.controller.store.StateStore;
import t3.reconciler.model.ObservedState;

/**
 * Since when the channel has had a version newer than the installed one, and which gate holds us back: fed from each
 * observation and each pass's end, read by the metrics and by the held-back alert. Kept in the state store, so a
 * controller restarted daily does not restart the clock daily.
 */
public final class HeldBack {
    static final String KEY = "held-back-since";

    /** @param reason the gate that ended the last pass (see {@link #reasonOf}) */
    public record Episode(Instant since, String reason) {}

    private final Optional<StateStore> store;
    private Optional<Instant> since = Optional.empty();
    /** Before the first pass ends nobody knows which gate holds. */
    private String reason = "pending";

    private HeldBack(Optional<StateStore> store) { this.store = store; }

    public static HeldBack inMemory() { return new HeldBack(Optional.empty()); }

    /** Starts from what a previous run recorded; an unreadable record starts the clock again rather than refuse to start. */
    public static HeldBack persistedIn(StateStore store) {
        HeldBack h = new HeldBack(Optional.of(store));
        h.since = store.get(KEY).flatMap(HeldBack::epochSecond);
        return h;
    }

    private static Optional<Instant> epochSecond(String v) {
        try {
            long s = Long.parseLong(v.strip());
            return s == 0 ? Optional.empty() : Optional.of(Instant.ofEpochSecond(s));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    public synchronized void observed(ObservedState o) {
        boolean behind = o.candidate().version().isPresent() && o.installed().map(i -> o.candidate().version().get().isNewerThan(i)).orElse(true);
        Optional<Instant> was = since;
        if (!behind) since = Optional.empty();
        else if (since.isEmpty()) since = Optional.of(Instant.ofEpochSecond(o.now().getEpochSecond()));
        if (!was.equals(since)) store.ifPresent(s -> s.put(KEY, Long.toString(since.map(Instant::getEpochSecond).orElse(0L))));
    }

    public synchronized void reconciled(Reconciler.Result r) { reason = reasonOf(r); }

    public synchronized Optional<Episode> current() { return since.map(s -> new Episode(s, reason)); }

    /** The gate that ended a pass; a failed pass is "error", an interrupted one "in-progress"; converged behind the channel can only be a pin. */
    static String reasonOf(Reconciler.Result r) {
        if (r.gate().isPresent()) return r.gate().get().label();
        return switch (r.outcome()) {
            case ERROR -> "error";
            case CONVERGED -> "pin";
            case HELD, INTERRUPTED -> "in-progress";
        };
    }
}
