package io.compozy.cache.web.store.lock;

import java.util.concurrent.ScheduledFuture;

/** A lock this JVM holds and keeps renewed until {@link #release()} (or {@link #close()}). */
public final class HeldLock implements AutoCloseable {

    private final LockManager manager;
    private final String key;
    private final String token;
    volatile ScheduledFuture<?> renewal;
    volatile boolean lost;
    private volatile boolean released;

    HeldLock(final LockManager manager, final String key, final String token) {
        this.manager = manager;
        this.key = key;
        this.token = token;
    }

    /** The Redis key of the lock. */
    public String key() {
        return key;
    }

    /** The random token that proves ownership. */
    public String token() {
        return token;
    }

    /**
     * Whether the renewal found the lock gone or owned by another token (no round trip): it expired while
     * Redis was away or lost in a failover, and a holder must stop acting on it. False until the next
     * renewal notices; {@link #isHeld()} asks Redis.
     */
    public boolean isLost() {
        return lost;
    }

    /** Whether this holder still owns the lock in Redis (asks Redis). */
    public boolean isHeld() {
        return !released && !lost && manager.ownedBy(key, token);
    }

    /**
     * Stops renewing and deletes the lock.
     *
     * @throws io.compozy.cache.web.store.StoreException {@code NOT_HELD} or {@code NOT_OWNER} when the lock
     *     was lost before the release
     */
    public void release() {
        if (released) {
            return;
        }
        released = true;
        manager.forget(this);
        manager.releaseKey(key, token);
    }

    @Override
    public void close() {
        release();
    }
}
