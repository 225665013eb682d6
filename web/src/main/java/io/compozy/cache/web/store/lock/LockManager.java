package io.compozy.cache.web.store.lock;

import io.compozy.cache.web.observe.Metered;
import io.compozy.cache.web.store.LuaScript;
import io.compozy.cache.web.store.StoreException;
import io.compozy.cache.web.store.StoreExecutors;
import io.compozy.cache.web.store.TokenClaim;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

/**
 * Distributed locks over the shared client (see docs/stores.md, "Lock manager").
 *
 * <p>{@link #tryAcquire} gives a {@link HeldLock} that renews itself every ttl/3 until released;
 * {@link #tryLease} gives a bare token that is not renewed (for holders outside this JVM, such as REST
 * clients, whose crash this JVM cannot see). Both fail at once when the lock is held: nobody waits.
 */
@ApplicationScoped
public class LockManager {

    private static final Logger LOG = Logger.getLogger(LockManager.class.getName());

    /** Every lock key is {@code lock:{resource}}. */
    public static final String KEY_PREFIX = "lock:";

    private static final LuaScript RENEW = LuaScript.load(LockManager.class, "renew.lua");

    private final RedissonClient redis;
    private final ScheduledExecutorService scheduler;
    private final Set<HeldLock> held = ConcurrentHashMap.newKeySet();

    /** For CDI's proxy only. */
    protected LockManager() {
        this.redis = null;
        this.scheduler = null;
    }

    @Inject
    public LockManager(final RedissonClient redis, final StoreExecutors executors) {
        this(redis, executors.scheduler());
    }

    /** @param scheduler runs the renewals; its owner shuts it down */
    public LockManager(final RedissonClient redis, final ScheduledExecutorService scheduler) {
        this.redis = Objects.requireNonNull(redis, "redis");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    }

    /** Takes {@code lock:{resource}} when free and keeps it renewed until released; empty when held. */
    @Metered(value = "lock_acquire", absent = "held")
    public Optional<HeldLock> tryAcquire(final String resource, final Duration ttl) {
        return tryAcquireKey(lockKey(resource), ttl);
    }

    /**
     * Takes a lock at an exact Redis key, for stores with lock keys of their own; empty when held.
     */
    @Metered(value = "lock_acquire", absent = "held")
    public Optional<HeldLock> tryAcquireKey(final String key, final Duration ttl) {
        long ttlMillis = validTtl(ttl);
        String token = TokenClaim.newToken();
        if (!TokenClaim.claim(redis, key, token, ttl)) {
            return Optional.empty();
        }
        HeldLock lock = new HeldLock(this, key, token);
        long period = Math.max(1, ttlMillis / 3);
        lock.renewal = scheduler.scheduleAtFixedRate(() -> renew(lock, ttlMillis), period, period,
                TimeUnit.MILLISECONDS);
        held.add(lock);
        if (lock.lost) {
            forget(lock); // lost before the renewal handle was stored
        }
        return Optional.of(lock);
    }

    /**
     * Takes {@code lock:{resource}} for {@code ttl} without renewal and returns its owner token; empty
     * when held. The lock frees itself when the ttl runs out unless released first.
     */
    @Metered(value = "lock_acquire", absent = "held")
    public Optional<String> tryLease(final String resource, final Duration ttl) {
        validTtl(ttl);
        String token = TokenClaim.newToken();
        return TokenClaim.claim(redis, lockKey(resource), token, ttl) ? Optional.of(token) : Optional.empty();
    }

    /**
     * Releases {@code lock:{resource}} when {@code token} owns it.
     *
     * @throws StoreException {@code NOT_HELD} when nobody holds it, {@code NOT_OWNER} when another token does
     */
    @Metered("lock_release")
    public void release(final String resource, final String token) {
        releaseKey(lockKey(resource), StoreException.requireText(token, "lock token"));
    }

    /** Whether anyone holds {@code lock:{resource}} right now. */
    @Metered("lock_check")
    public boolean isLocked(final String resource) {
        return redis.getBucket(lockKey(resource), StringCodec.INSTANCE).isExists();
    }

    void releaseKey(final String key, final String token) {
        TokenClaim.Release result = TokenClaim.release(redis, key, token);
        if (result == TokenClaim.Release.NOBODY) {
            throw new StoreException(StoreException.Reason.NOT_HELD,
                    "the lock '" + key + "' is not held (it was released or its TTL ran out)");
        }
        if (result == TokenClaim.Release.OTHER_OWNER) {
            throw new StoreException(StoreException.Reason.NOT_OWNER,
                    "the lock '" + key + "' is held by another owner; only the token that acquired it can release it");
        }
    }

    boolean ownedBy(final String key, final String token) {
        return token.equals(redis.getBucket(key, StringCodec.INSTANCE).get());
    }

    void forget(final HeldLock lock) {
        held.remove(lock);
        if (lock.renewal != null) {
            lock.renewal.cancel(false);
        }
    }

    private void renew(final HeldLock lock, final long ttlMillis) {
        try {
            Long renewed = RENEW.eval(redis, RScript.ReturnType.INTEGER, List.of(lock.key()), lock.token(), ttlMillis);
            if (renewed == 0) {
                // Marked before it is said: whoever reads the log line (an operator, a test) finds it lost.
                lock.lost = true;
                forget(lock);
                LOG.warning(() -> "lost the lock '" + lock.key() + "' (it expired or was taken over); renewal stops");
            }
        } catch (RuntimeException e) {
            // A failed renewal is retried at the next period; if Redis stays away the TTL frees the lock.
            LOG.log(Level.FINE, "renewal of lock '" + lock.key() + "' failed; retrying", e);
        }
    }

    /** Stops every renewal and releases the locks this manager still holds. */
    @PreDestroy
    public void close() {
        for (HeldLock lock : List.copyOf(held)) {
            try {
                lock.release();
            } catch (RuntimeException e) {
                LOG.log(Level.FINE, "could not release lock '" + lock.key() + "' at shutdown; its TTL will", e);
            }
        }
    }

    private static String lockKey(final String resource) {
        return KEY_PREFIX + StoreException.requireText(resource, "lock resource");
    }

    private static long validTtl(final Duration ttl) {
        if (ttl == null || ttl.toMillis() < 1) {
            throw StoreException.invalid("a lock TTL must be at least 1 ms, got " + ttl);
        }
        return ttl.toMillis();
    }
}
