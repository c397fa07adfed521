package t3.reconciler.controller.actuator.fleet;

import java.nio.charset.StandardCharsets;

/** One key as etcd stores it. {@code lease} is 0 for a key that lives until deleted. */
public record Kv(String key, byte[] value, long createRevision, long modRevision, long lease) {
    public String text() { return new String(value, StandardCharsets.UTF_8); }
}
