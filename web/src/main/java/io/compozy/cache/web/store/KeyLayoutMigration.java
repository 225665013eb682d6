package io.compozy.cache.web.store;

import io.compozy.cache.web.store.memory.MemoryStore;
import io.compozy.cache.web.store.resource.ResourceStore;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.redisson.api.RBucket;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.api.options.KeysScanOptions;
import org.redisson.client.RedisException;
import org.redisson.client.codec.ByteArrayCodec;
import org.redisson.client.codec.StringCodec;

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
 * Every other store keeps one key per entity and its names are unchanged. Each key moves in one step that cannot
 * fail on the key itself, and keeps its TTL: one that expired or that another server moved since the SCAN listed
 * it is skipped, so one key never stops the pass, and servers that start at the same moment all finish. The new
 * names all begin with {@code {}, which no old name did, so a second run (after a crash half-way) finds only what
 * is left. When both layouts hold an entity (an old server wrote after the migration) the new one is kept, the
 * old key is left alone and a WARNING names it. A marker key records that the keyspace is migrated, so later
 * starts do not SCAN it again.
 */
@ApplicationScoped
public class KeyLayoutMigration {

    private static final Logger LOG = Logger.getLogger(KeyLayoutMigration.class.getName());
    /** Set once a full pass has run; its value names the layout. */
    public static final String MARKER_KEY = "__compozy_internal__:key_layout";
    static final String LAYOUT = "hash-tagged";
    private static final String EVENTS = "stream:events:";
    private static final LuaScript MOVE = LuaScript.load(KeyLayoutMigration.class, "move_old_key.lua");
    private static final int SCAN_CHUNK = 500;

    private final RedissonClient redis;
    private final String memoryPrefix;
    private final String resourcesPrefix;
    private final Consumer<String> beforeMove;

    /** For CDI's proxy only. */
    protected KeyLayoutMigration() {
        this.redis = null;
        this.memoryPrefix = null;
        this.resourcesPrefix = null;
        this.beforeMove = null;
    }

    @Inject
    public KeyLayoutMigration(final RedissonClient redis,
            @ConfigProperty(name = MemoryStore.PREFIX_KEY, defaultValue = MemoryStore.DEFAULT_PREFIX)
            final String memoryPrefix,
            @ConfigProperty(name = ResourceStore.PREFIX_KEY, defaultValue = ResourceStore.DEFAULT_PREFIX)
            final String resourcesPrefix) {
        this(redis, memoryPrefix, resourcesPrefix, oldKey -> { });
    }

    /** @param beforeMove runs just before each old key is moved (tests let it vanish there, or start a second pass) */
    KeyLayoutMigration(final RedissonClient redis, final String memoryPrefix, final String resourcesPrefix,
            final Consumer<String> beforeMove) {
        this.redis = Objects.requireNonNull(redis, "redis");
        this.beforeMove = Objects.requireNonNull(beforeMove, "beforeMove");
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

    /** Migrates unless the marker says it was done; returns how many keys were moved. */
    public long migrateOnce() {
        var marker = redis.getBucket(MARKER_KEY, StringCodec.INSTANCE);
        if (LAYOUT.equals(marker.get())) {
            return 0;
        }
        long moved = migrateAll();
        marker.set(LAYOUT);
        return moved;
    }

    /** One full pass over the old names; safe to repeat, and to run on several servers at once. */
    public long migrateAll() {
        long begin = System.nanoTime();
        Map<Outcome, Long> tally = new EnumMap<>(Outcome.class);
        if (memoryPrefix.isEmpty()) {
            // Every key would match an empty prefix: which ones were conversations cannot be told.
            LOG.warning("Not migrating memory keys: " + MemoryStore.PREFIX_KEY + " is empty, so old conversation"
                    + " keys cannot be told from other keys; rename them as docs/migration.md shows");
        } else {
            migrate(memoryPrefix, key -> withSuffix(key, ":metadata"), tally);
        }
        migrate(resourcesPrefix, key -> withSuffix(key, ":etag"), tally);
        migrate(EVENTS + "seq:", key -> HashTag.of(EVENTS + key.substring((EVENTS + "seq:").length())) + ":seq", tally);
        migrate(EVENTS + "log:", key -> HashTag.of(EVENTS + key.substring((EVENTS + "log:").length())) + ":log", tally);
        long moved = tally.getOrDefault(Outcome.MOVED, 0L);
        long gone = tally.getOrDefault(Outcome.GONE, 0L);
        if (moved + gone > 0) {
            LOG.info("Moved " + moved + " keys to the hash-tagged layout in " + (System.nanoTime() - begin) / 1_000_000
                    + " ms; " + gone + " expired or another server moved them meanwhile (FINE names them;"
                    + " docs/migration.md)");
        }
        return moved;
    }

    /** {@code base + suffix} becomes {@code {base} + suffix}; any other key {@code k} becomes {@code {k}}. */
    private static String withSuffix(final String key, final String suffix) {
        return key.endsWith(suffix)
                ? HashTag.of(key.substring(0, key.length() - suffix.length())) + suffix
                : HashTag.of(key);
    }

    private void migrate(final String oldPrefix, final UnaryOperator<String> newName, final Map<Outcome, Long> tally) {
        List<String> oldKeys;
        // SCAN covers every master of a Cluster; old names never begin with "{", new ones always do.
        try (var stream = redis.getKeys().getKeysStream(KeysScanOptions.defaults()
                .pattern(KeyPatterns.startingWith(oldPrefix)).chunkSize(SCAN_CHUNK))) {
            oldKeys = stream.filter(k -> !k.startsWith("{")).distinct().toList();
        }
        boolean cluster = redis.getConfig().isClusterConfig();
        for (String oldKey : oldKeys) {
            String target = newName.apply(oldKey);
            beforeMove.accept(oldKey);
            Outcome outcome = cluster ? copyAcrossSlots(oldKey, target) : rename(oldKey, target);
            tally.merge(outcome, 1L, Long::sum);
            switch (outcome) {
                case MOVED -> { }
                case TAKEN -> LOG.warning("Both '" + oldKey + "' (old layout) and '" + target + "' (hash-tagged)"
                        + " exist; the stores use the second, the first is left as it is (docs/migration.md)");
                case GONE -> LOG.fine(() -> "'" + oldKey + "' expired or was moved by another server since the"
                        + " SCAN listed it; nothing to move");
            }
        }
    }

    /** On one Redis: {@code move_old_key.lua}, which checks and renames in one step. */
    private Outcome rename(final String oldKey, final String target) {
        return Outcome.valueOf(MOVE.eval(redis, RScript.ReturnType.STATUS, List.of(oldKey, target)));
    }

    /**
     * Cluster refuses RENAME and scripts across slots: copy with DUMP/RESTORE (which keeps the type and the TTL),
     * then delete the old key. A server that finds the same copy already made leaves the delete to the server
     * that made it. One whose delete finds the old key already gone removes its copy again: another server moved
     * the key before this copy was made, and the new key has been deleted since (or the old one expired), so the
     * copy would bring back what was deleted.
     */
    private Outcome copyAcrossSlots(final String oldKey, final String target) {
        RBucket<Object> old = redis.getBucket(oldKey, ByteArrayCodec.INSTANCE);
        long ttl = old.remainTimeToLive();
        byte[] state = old.dump();
        if (state == null || ttl == -2) {
            return Outcome.GONE;
        }
        RBucket<Object> copy = redis.getBucket(target, ByteArrayCodec.INSTANCE);
        try {
            copy.restore(state, Math.max(0, ttl), TimeUnit.MILLISECONDS);
        } catch (RedisException e) {
            if (!String.valueOf(e.getMessage()).contains("BUSYKEY")) {
                throw e;
            }
            return Arrays.equals(state, copy.dump()) ? Outcome.GONE : Outcome.TAKEN;
        }
        if (!old.delete()) {
            copy.delete();
            return Outcome.GONE;
        }
        return Outcome.MOVED;
    }

    /** What became of one key a SCAN listed. */
    private enum Outcome {
        MOVED,
        /** It expired, or another server moved it, since the SCAN. */
        GONE,
        /** Both layouts hold the entity; the new one wins. */
        TAKEN
    }
}
