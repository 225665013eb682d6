package io.compozy.cache.api;

import java.util.Optional;
import org.redisson.api.RedissonClient;

/**
 * A handle on the connection factory's {@link RedissonClient}: every Redisson call goes to the client of the
 * factory it came from, on the adapter's Redis for the active mode (embedded redis-server or external Redis).
 * A factory with a key prefix maps every name the application uses under its prefix, and its Redis user reaches
 * only those keys; the shipped factory's user runs no administrative or dangerous command (docs/security.md).
 *
 * <p>{@link #close()} gives the handle back; calls on a closed handle fail with
 * {@link IllegalStateException}. Objects already obtained from it ({@code RBucket}, {@code RMap}, ...)
 * belong to the shared client and stay usable. {@link #shutdown()} is refused with
 * {@link UnsupportedOperationException}: the client's lifecycle belongs to the adapter.
 *
 * <p>The adapter's default codec is {@code StringCodec}, so data written through it is readable by
 * any Redis client; pass a codec (for example {@code TypedJsonJacksonCodec}) for objects.
 */
public interface CacheConnection extends RedissonClient, AutoCloseable {

    /** Which backend this handle talks to; never contains a secret. */
    BackendInfo backend();

    /** The Redis deployment (one node, Cluster or Sentinel): every node's role and reachability; no secret. */
    TopologyInfo topology();

    /** Whether the server answers PING right now (bounded by the client's response timeout). */
    boolean ping();

    /**
     * Snapshot control, present in standalone mode with
     * {@code redis.standalone.persistence.enabled=true}; empty otherwise (an external Redis persists
     * itself).
     *
     * @throws SecurityException unless the handle came from an administrator factory ({@code administrator=true}):
     *     a snapshot, an RDB download or a restore reaches every application's data
     */
    Optional<Persistence> persistence();

    /**
     * The adapter's client itself, for holders that outlive a request (a CDI producer, a singleton):
     * unlike this handle it stays valid after {@link #close()}, for as long as the adapter runs, and
     * it refuses {@code shutdown()} too. The server may reclaim a handle kept beyond the component
     * call that obtained it; keep this client instead.
     */
    RedissonClient sharedClient();

    /**
     * The JCache (JSR-107) {@code CacheManager} of the calling application, on the factory's client:
     * its caches live in the adapter's Redis, so every application and server that uses the same cache
     * name through a factory without a prefix sees the same entries; a prefixed factory's caches live under
     * its prefix, apart from everyone else's. Entries are Java-serialized and read back with the caller's class
     * loader (the thread context class loader), so application classes come back as themselves. The
     * caches declared in {@code compozy.jcache.caches} are there from the start; others are created
     * with {@code createCache}. Like {@link #sharedClient()} it outlives this handle; close it when the
     * application stops (the data stays).
     */
    javax.cache.CacheManager cacheManager();

    /** Returns the handle to the adapter. Never shuts the shared client down. */
    @Override
    void close();
}
