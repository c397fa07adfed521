package t3.reconciler.model.fleet;

/** How etcd looked to the last read: only {@code QUORUM} lets a rollout start (docs/fleet.md, failure table). */
public enum EtcdHealth {
    /** A linearizable read succeeded: a majority of members agreed. */
    QUORUM,
    /** A member answered but the read could not be served: no leader, too few members. */
    NO_QUORUM,
    /** No endpoint answered. */
    UNREACHABLE
}
