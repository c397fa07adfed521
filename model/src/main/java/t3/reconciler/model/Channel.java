package t3.reconciler.model;

/** An npm dist-tag the controller may follow. */
public enum Channel {
    NIGHTLY("nightly"),
    LATEST("latest");

    private final String tag;

    Channel(String tag) { this.tag = tag; }

    /** The dist-tag as npm spells it. */
    public String tag() { return tag; }

    public static Channel fromTag(String s) {
        for (Channel c : values()) if (c.tag.equals(s)) return c;
        throw new IllegalArgumentException("'" + s + "' is not a channel (expected nightly or latest)");
    }
}
