package t3.reconciler.controller.actuator.fleet;

/**
 * The keyspace of one group (docs/fleet.md): everything lives under {@code /t3-reconciler/<group>/}, so one range read
 * returns the whole fleet at one revision and one watch sees every change. Group, host and version names cannot hold
 * '/' (the loader and {@code Version} refuse it), so each segment stays one segment.
 */
public record Keys(String group) {
    public String root() { return "/t3-reconciler/" + group + "/"; }

    /** One key per holder, under the holder's lease: the semaphore's count is the number of keys. */
    public String slots() { return root() + "slots/"; }

    public String slot(String host) { return slots() + host; }

    /** Versions that failed somewhere; no lease: a verdict stays until an operator lifts it. */
    public String verdicts() { return root() + "verdicts/"; }

    public String verdict(String version) { return verdicts() + version; }

    public String freeze() { return root() + "freeze"; }

    /** Each host's status, under its lease: a dead host's status vanishes with it. */
    public String statuses() { return root() + "status/"; }

    public String status(String host) { return statuses() + host; }

    /** {@code promotions/<version>/<host>}: when a host promoted a version; what waves wait on. */
    public String promotions() { return root() + "promotions/"; }

    public String promotion(String version, String host) { return promotions() + version + "/" + host; }
}
