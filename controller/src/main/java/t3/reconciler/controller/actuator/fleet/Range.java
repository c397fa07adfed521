package t3.reconciler.controller.actuator.fleet;

import java.util.List;

/** The keys of one range read, and the store revision the read saw: later writes have larger revisions. */
public record Range(List<Kv> kvs, long revision) {
    public Range {
        kvs = List.copyOf(kvs);
    }
}
