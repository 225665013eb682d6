package io.compozy.cache.web.store;

import io.compozy.cache.web.store.memory.MemoryStore;
import io.compozy.cache.web.store.resource.ResourceStore;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.redisson.api.RedissonClient;
import org.redisson.api.options.KeysScanOptions;
import org.redisson.api.RBucket;
import org.redisson.client.RedisException;
import org.redisson.client.codec.ByteArrayCodec;
import org.redisson.client.codec.StringCodec;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Moves data written before the stores' keys carried hash tags ({@link HashTag}) to the hash-tagged names, once,
 * when the application starts and before anything else touches the stores:
 * <ul>
 *   <li>memory: {@code <prefix><key>} and {@code <prefix><key>:metadata} become {@code {<prefix><key>}} and
 *       {@code {<prefix><key>}:metadata};</li>
 *   <li>resources: {@code <prefix>:<project>:<type>:<id>[...]} and its {@code :etag} become
 *       {@code {<prefix>:<project>:<type>:<id>[...]}} and {@code {...}:etag};</li>
 *   <li>event streams: {@code stream:events:seq:<id>} and {@code stream:events:log:<id>} become
 *       {@code {stream:events:<id>}:seq} and {@code {stream:events:<id>}:log}.</li>
 * </ul>
 * Every other store keeps one key per entity and its names are unchanged. Each key is renamed with RENAMENX,
 * which keeps its TTL; the new names all begin with {@code {}, which no old name did, so a second run (after
 * a crash half-way, or on another server at the same moment) finds only what is left and the migration is
 * idempotent. When both layouts hold an entity (an old server wrote after the migration) the new one is kept,
 * the old key is left alone and a WARNING names it. A marker key records that the keyspace is migrated, so
 * later starts do not SCAN it again.
 */
@ApplicationScoped
public class KeyLayoutMigration {

    private static final Logger LOG = Logger.getLogger(KeyLayoutMigration.class.getName());
    /** Set once a full pass has run; its value names the layout. */
    public static final String MARKER_KEY = "__compozy_internal__:key_layout";
    static final String LAYOUT = "hash-tagged";
    private static final String EVENTS = "stream:events:";
    private static final int SCAN_CHUNK = 500;

    private final RedissonClient redis;
    private final String memoryPrefix;
    private final String resourcesPrefix;

    /** For CDI's proxy only. */
    protected KeyLayoutMigration() {
        this.redis = null;
        this.memoryPrefix = null;
        this.resourcesPrefix = null;
    }

    @Inject
    public KeyLayoutMigration(final RedissonClient redis,
            @ConfigProperty(name = MemoryStore.PREFIX_KEY, defaultValue = MemoryStore.DEFAULT_PREFIX)
            final String memoryPrefix,
            @ConfigProperty(name = ResourceStore.PREFIX_KEY, defaultValue = ResourceStore.DEFAULT_PREFIX)
            final String resourcesPrefix) {
        this.redis = Objects.requireNonNull(redis, "redis");
        this.memoryPrefix = MemoryStore.normalizedPrefix(memoryPrefix);
        this.resourcesPrefix = StoreException.requireText(resourcesPrefix, ResourceStore.PREFIX_KEY) + ":";
    }

    /** Runs before the other start-up observers (which read and write the stores). */
    void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) @Initialized(ApplicationScoped.class)
                 final Object applicationStarted) {
        try {
            migrateOnce();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "Could not move old-layout keys to the hash-tagged layout (docs/migration.md);"
                    + " it is tried again at the next start. Data written by an older version is not visible"
                    + " until then", e);
        }
    }

    /** Migrates unless the marker says it was done; returns how many keys were renamed. */
    public long migrateOnce() {
        var marker = redis.getBucket(MARKER_KEY, StringCodec.INSTANCE);
        if (LAYOUT.equals(marker.get())) {
            return 0;
        }
        long begin = System.nanoTime();
        long moved = migrateAll();
        marker.set(LAYOUT);
        if (moved > 0) {
            LOG.info("Moved " + moved + " keys to the hash-tagged layout in "
                    + (System.nanoTime() - begin) / 1_000_000 + " ms (docs/migration.md)");
        }
        return moved;
    }

    /** One full pass over the old names; safe to repeat. Returns how many keys were renamed. */
    public long migrateAll() {
        long moved = 0;
        if (memoryPrefix.isEmpty()) {
            // Every key would match an empty prefix: which ones were conversations cannot be told.
            LOG.warning("Not migrating memory keys: " + MemoryStore.PREFIX_KEY + " is empty, so old conversation"
                    + " keys cannot be told from other keys; rename them as docs/migration.md shows");
        } else {
            moved += migrate(memoryPrefix, key -> withSuffix(key, ":metadata"));
        }
        moved += migrate(resourcesPrefix, key -> withSuffix(key, ":etag"));
        moved += migrate(EVENTS + "seq:", key -> HashTag.of(EVENTS + key.substring((EVENTS + "seq:").length())) + ":seq");
        moved += migrate(EVENTS + "log:", key -> HashTag.of(EVENTS + key.substring((EVENTS + "log:").length())) + ":log");
        return moved;
    }

    /** {@code base + suffix} becomes {@code {base} + suffix}; any other key {@code k} becomes {@code {k}}. */
    private static String withSuffix(final String key, final String suffix) {
        return key.endsWith(suffix)
                ? HashTag.of(key.substring(0, key.length() - suffix.length())) + suffix
                : HashTag.of(key);
    }

    private long migrate(final String oldPrefix, final UnaryOperator<String> newName) {
        List<String> oldKeys;
        // SCAN covers every master of a Cluster; old names never begin with "{", new ones always do.
        try (var stream = redis.getKeys().getKeysStream(KeysScanOptions.defaults()
                .pattern(KeyPatterns.startingWith(oldPrefix)).chunkSize(SCAN_CHUNK))) {
            oldKeys = stream.filter(k -> !k.startsWith("{")).distinct().toList();
        }
        long moved = 0;
        boolean cluster = redis.getConfig().isClusterConfig();
        for (String oldKey : oldKeys) {
            String target = newName.apply(oldKey);
            if (cluster ? moveAcrossSlots(oldKey, target) : redis.getBucket(oldKey).renamenx(target)) {
                moved++;
            } else if (redis.getKeys().countExists(oldKey) > 0) {
                LOG.warning("Both '" + oldKey + "' (old layout) and '" + target + "' (hash-tagged) exist; the"
                        + " stores use the second, the first is left as it is (docs/migration.md)");
            }
        }
        return moved;
    }

    /**
     * Cluster refuses RENAME between slots: copy with DUMP/RESTORE (which keeps the type and the TTL), then
     * delete the old key. A crash in between leaves both, which the next pass reports and leaves alone.
     */
    private boolean moveAcrossSlots(final String oldKey, final String target) {
        RBucket<Object> old = redis.getBucket(oldKey, ByteArrayCodec.INSTANCE);
        long ttl = old.remainTimeToLive();
        byte[] state = old.dump();
        if (state == null || redis.getKeys().countExists(target) > 0) {
            return false;
        }
        try {
            redis.getBucket(target, ByteArrayCodec.INSTANCE).restore(state, Math.max(0, ttl), TimeUnit.MILLISECONDS);
        } catch (RedisException e) {
            if (String.valueOf(e.getMessage()).contains("BUSYKEY")) {
                return false; // written meanwhile: the new one wins
            }
            throw e;
        }
        old.delete();
        return true;
    }
}
