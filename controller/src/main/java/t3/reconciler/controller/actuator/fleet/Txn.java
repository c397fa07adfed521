package t3.reconciler.controller.actuator.fleet;

import java.util.List;

/**
 * One etcd transaction: if every compare holds, the success ops are applied, else the failure ops, atomically and
 * linearizably (etcd's Txn). Only the compares and ops this package needs.
 */
public record Txn(List<Compare> compares, List<Op> success, List<Op> failure) {
    public Txn {
        compares = List.copyOf(compares);
        success = List.copyOf(success);
        failure = List.copyOf(failure);
    }

    public sealed interface Compare {}

    /** The key does not exist (its create revision is 0). */
    public record Absent(String key) implements Compare {}

    /** The key exists with exactly this modification revision (nobody wrote it since it was read). */
    public record ModRevisionIs(String key, long revision) implements Compare {}

    /** The key is held under this lease (the caller's own): another host's key fails the compare. */
    public record LeaseIs(String key, long lease) implements Compare {}

    /** Every key in [from, to) was last written at or before {@code revision}: none was created or changed since a read at it. */
    public record RangeUnchangedSince(String from, String to, long revision) implements Compare {}

    public sealed interface Op {}

    public record Put(String key, byte[] value, long lease) implements Op {}

    public record Delete(String key) implements Op {}

    /** Read the prefix back in the same transaction, to tell the caller why a compare failed. */
    public record Get(String from, String to) implements Op {}
}
