package io.compozy.cache.web.store.memory;

import java.time.Duration;

/** The locks taken around memory operations, with their key suffix and TTL from docs/stores.md. */
public enum MemoryLock {
    APPEND(":append_lock", Duration.ofSeconds(30)),
    CLEAR(":clear_lock", Duration.ofSeconds(10)),
    FLUSH(":flush_lock", Duration.ofMinutes(5));

    private final String suffix;
    private final Duration ttl;

    MemoryLock(final String suffix, final Duration ttl) {
        this.suffix = suffix;
        this.ttl = ttl;
    }

    /** The lock key for a conversation's full key. */
    public String keyFor(final String fullKey) {
        return fullKey + suffix;
    }

    public Duration ttl() {
        return ttl;
    }
}
