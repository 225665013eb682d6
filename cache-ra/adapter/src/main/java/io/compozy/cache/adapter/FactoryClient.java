package io.compozy.cache.adapter;

import io.compozy.cache.jcache.SharedCachingProvider;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.redisson.api.RedissonClient;

/**
 * The client one connection factory's handles use: the adapter's own (the administrator's factory, and in
 * distributed mode a factory with neither prefix nor user), or one of its own, logged in as the factory's
 * Redis user with the factory's prefix, on the adapter's event loops and threads.
 */
final class FactoryClient {

    private final RedissonClient client;
    private final RedissonClient guarded;
    private final boolean own;
    private final FactoryAccess access;
    /** A prefixed factory's JCache: its caches live under its prefix. Created on first use. */
    private SharedCachingProvider jcache;

    private FactoryClient(final RedissonClient client, final boolean own, final FactoryAccess access) {
        this.client = client;
        this.guarded = SharedClientGuard.guard(client);
        this.own = own;
        this.access = access;
    }

    static FactoryClient adapters(final RedissonClient adapterClient, final FactoryAccess access) {
        return new FactoryClient(adapterClient, false, access);
    }

    static FactoryClient own(final RedissonClient client, final FactoryAccess access) {
        return new FactoryClient(client, true, access);
    }

    RedissonClient client() {
        return client;
    }

    /** The view applications may keep (shutdown refused). */
    RedissonClient guarded() {
        return guarded;
    }

    FactoryAccess access() {
        return access;
    }

    /** The key prefix JCache caches need a provider of their own for; empty: the adapter's caches. */
    Optional<String> keyPrefix() {
        return access.keyPrefix();
    }

    synchronized SharedCachingProvider jcache(final Supplier<SharedCachingProvider> create) {
        if (jcache == null) {
            jcache = create.get();
        }
        return jcache;
    }

    /** Only what this factory owns: never the adapter's client. */
    synchronized void close() {
        if (jcache != null) {
            jcache.close();
            jcache = null;
        }
        if (own) {
            client.shutdown(0, 2, TimeUnit.SECONDS);
        }
    }
}
