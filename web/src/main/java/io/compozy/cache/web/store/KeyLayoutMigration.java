package io.compozy.cache.web.store;

import io.compozy.cache.web.store.eventstream.ExecutionEventStream;
import io.compozy.cache.web.store.mcp.McpDefinitionStore;
import io.compozy.cache.web.store.memory.MemoryStore;
import io.compozy.cache.web.store.resource.ResourceKey;
import io.compozy.cache.web.store.resource.ResourceStore;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.redisson.api.RBucket;
import org.redisson.api.RScript;
import org.redisson.api.RType;
import org.redisson.api.RedissonClient;
import org.redisson.api.options.KeysScanOptions;
import org.redisson.client.RedisException;
import org.redisson.client.codec.ByteArrayCodec;
import org.redisson.client.codec.StringCodec;

/**
 * Moves the keys of earlier layouts to the names the stores use now ({@link HashTag}), once, when the application
 * starts and before anything else touches the stores (docs/migration.md, "Hash-tagged keys"):
 * <ul>
 *   <li>memory: {@code <prefix><key>} (a list) and {@code <prefix><key>:metadata} (a hash) become
 *       {@code {<prefix><key>}} and {@code {<prefix><key>}:metadata};</li>
 *   <li>resources: {@code <prefix>:<project>:<type>:<id>[:ver:<version>]} and its {@code :etag} (strings) become
 *       {@code {<prefix>:<project>:<type>:<id>[...]}} and {@code {...}:etag};</li>
 *   <li>event streams: {@code stream:events:seq:<id>} (a string) and {@code stream:events:log:<id>} (a list)
 *       become {@code {stream:events:<id>}:seq} and {@code {stream:events:<id>}:log};</li>
 *   <li>MCP definitions: {@code mcp_proxy:mcps:<name>} and {@code mcp_proxy:status:<name>} (strings) become
 *       {@code {mcp_proxy:mcps:<name>}} and {@code {mcp_proxy:mcps:<name>}:status};</li>
 *   <li>a memory or resource name that begins with {@code }}: {@code {}<rest>}} (the empty tag, which Cluster
 *       ignores) becomes {@code ~{<rest>}}, and the same for its second key.</li>
 * </ul>
 * A key moves only when its whole name has the shape its store writes and its TYPE is the one the store writes
 * there; any other key that merely shares a prefix (another application's {@code res:config}) is left alone and
 * named at FINE. Each key moves in one step that cannot fail on the key itself: one that expired or that another
 * server moved since the SCAN listed it is skipped, so one key never stops the pass, and servers that start at the
 * same moment all finish. The move keeps the TTL. When both layouts hold an entity (an old server wrote after the
 * migration) the new key is kept, the old one is left alone and a WARNING names it. A marker key records which
 * layout the keyspace is in, so later starts do not SCAN it again.
 */
@ApplicationScoped
public class KeyLayoutMigration {

    private static final Logger LOG = Logger.getLogger(KeyLayoutMigration.class.getName());
    /** Set once a full pass has run; its value names the layout. */
    public static final String MARKER_KEY = "__compozy_internal__:key_layout";
    /** The layout now; {@code hash-tagged}, the one before, had MCP definitions untagged and allowed the empty tag. */
    static final String LAYOUT = "hash-tagged-2";
    private static final String EVENTS = "stream:events:";
    private static final String MCP_DEFINITIONS = "mcp_proxy:mcps:";
    private static final String MCP_STATUS = "mcp_proxy:status:";
    private static final LuaScript MOVE = LuaScript.load(KeyLayoutMigration.class, "move_old_key.lua");
    private static final int SCAN_CHUNK = 500;

    private final RedissonClient redis;
    private final String memoryPrefix;
    private final String resourcesPrefix;
    private final boolean memoryPrefixEmpty;
    private final List<OldKeys> oldKeys;
    private final Consumer<String> beforeMove;

    /** For CDI's proxy only. */
    protected KeyLayoutMigration() {
        this.redis = null;
        this.memoryPrefix = null;
        this.resourcesPrefix = null;
        this.memoryPrefixEmpty = false;
        this.oldKeys = null;
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
        this.memoryPrefix = memoryPrefix;
        this.resourcesPrefix = resourcesPrefix;
        this.beforeMove = Objects.requireNonNull(beforeMove, "beforeMove");
        MemoryStore memory = new MemoryStore(redis, memoryPrefix);
        String conversations = MemoryStore.normalizedPrefix(memoryPrefix);
        String resources = StoreException.requireText(resourcesPrefix, ResourceStore.PREFIX_KEY) + ":";
        this.memoryPrefixEmpty = conversations.isEmpty();

        OldKeys memoryKeys = new OldKeys("memory", conversations, name -> conversation(memory, conversations, name));
        OldKeys resourceKeys = new OldKeys("resource", resources, name -> resource(resources, name));
        List<OldKeys> all = new ArrayList<>();
        if (!memoryPrefixEmpty) {
            all.add(memoryKeys);
        }
        all.add(resourceKeys);
        all.add(named("event stream", EVENTS + "seq:", ExecutionEventStream::sequenceKey, RType.OBJECT));
        all.add(named("event stream", EVENTS + "log:", ExecutionEventStream::logKey, RType.LIST));
        all.add(named("MCP", MCP_DEFINITIONS, McpDefinitionStore::definitionKey, RType.OBJECT));
        all.add(named("MCP", MCP_STATUS, McpDefinitionStore::statusKey, RType.OBJECT));
        if (conversations.isEmpty() || conversations.startsWith("}")) {
            all.add(emptyTag(memoryKeys, "{" + (conversations.isEmpty() ? "}" : conversations), MemoryStore.METADATA_SUFFIX));
        }
        if (resources.startsWith("}")) {
            all.add(emptyTag(resourceKeys, "{" + resources, ResourceKey.ETAG_SUFFIX));
        }
        this.oldKeys = List.copyOf(all);
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

    /** Migrates unless the marker names the current layout; returns how many keys were moved. */
    public long migrateOnce() {
        var marker = redis.getBucket(MARKER_KEY, StringCodec.INSTANCE);
        if (LAYOUT.equals(marker.get())) {
            return 0;
        }
        long moved = migrateAll();
        marker.set(LAYOUT);
        return moved;
    }

    /**
     * {@link #migrateOnce()} on other data than the stores' (a restored backup, before anything else sees it),
     * with the same prefixes.
     */
    public long migrateOnce(final RedissonClient data) {
        return new KeyLayoutMigration(data, memoryPrefix, resourcesPrefix, beforeMove).migrateOnce();
    }

    /** One full pass over the old names; safe to repeat, and to run on several servers at once. */
    public long migrateAll() {
        if (memoryPrefixEmpty) {
            // Every key would match an empty prefix: which ones were conversations cannot be told.
            LOG.warning("Not migrating memory keys of the layout before hash tags: " + MemoryStore.PREFIX_KEY
                    + " is empty, so old conversation keys cannot be told from other keys; rename them as"
                    + " docs/migration.md shows");
        }
        long begin = System.nanoTime();
        Map<Outcome, Long> tally = new EnumMap<>(Outcome.class);
        for (OldKeys kind : oldKeys) {
            migrate(kind, tally);
        }
        long moved = tally.getOrDefault(Outcome.MOVED, 0L);
        long foreign = tally.getOrDefault(Outcome.OTHER_TYPE, 0L) + tally.getOrDefault(Outcome.OTHER_SHAPE, 0L);
        long gone = tally.getOrDefault(Outcome.GONE, 0L);
        if (moved + foreign + gone > 0) {
            LOG.info("Moved " + moved + " keys to the hash-tagged layout in " + (System.nanoTime() - begin) / 1_000_000
                    + " ms; left alone " + foreign + " keys that share a store's prefix but are not its keys, and "
                    + gone + " that expired or another server moved meanwhile (FINE names them; docs/migration.md)");
        }
        return moved;
    }

    private void migrate(final OldKeys kind, final Map<Outcome, Long> tally) {
        List<String> found;
        // SCAN covers every master of a Cluster.
        try (var stream = redis.getKeys().getKeysStream(KeysScanOptions.defaults()
                .pattern(KeyPatterns.startingWith(kind.scanPrefix())).chunkSize(SCAN_CHUNK))) {
            found = stream.distinct().toList();
        }
        boolean cluster = redis.getConfig().isClusterConfig();
        for (String oldKey : found) {
            Optional<Move> move = kind.target().apply(oldKey);
            Outcome outcome = Outcome.OTHER_SHAPE;
            if (move.isPresent()) {
                beforeMove.accept(oldKey);
                outcome = cluster ? copyAcrossSlots(oldKey, move.get()) : rename(oldKey, move.get());
            }
            tally.merge(outcome, 1L, Long::sum);
            switch (outcome) {
                case MOVED -> { }
                case TAKEN -> LOG.warning("Both '" + oldKey + "' (old layout) and '" + move.get().target()
                        + "' (current layout) exist; the stores use the second, the first is left as it is"
                        + " (docs/migration.md)");
                case GONE -> LOG.fine(() -> "'" + oldKey + "' expired or was moved by another server since the"
                        + " SCAN listed it; nothing to move");
                case OTHER_TYPE -> LOG.fine(() -> "Left '" + oldKey + "' alone: it has a " + kind.store()
                        + " key's name, but the " + kind.store() + " store writes a " + move.get().type().getValue()
                        + " there");
                case OTHER_SHAPE -> LOG.fine(() -> "Left '" + oldKey + "' alone: it shares the " + kind.store()
                        + " prefix '" + kind.scanPrefix() + "', but the " + kind.store() + " store writes no such name");
            }
        }
    }

    /** On one Redis: {@code move_old_key.lua}, which checks and renames in one step. */
    private Outcome rename(final String oldKey, final Move move) {
        String outcome = MOVE.eval(redis, RScript.ReturnType.STATUS, List.of(oldKey, move.target()),
                move.type().getValue());
        return Outcome.valueOf(outcome);
    }

    /**
     * Cluster refuses RENAME and scripts across slots: copy with DUMP/RESTORE (which keeps the type and the TTL),
     * then delete the old key. A server that finds the same copy already made leaves the delete to the server
     * that made it. One whose delete finds the old key already gone removes its copy again: another server moved
     * the key before this copy was made, and the new key has been deleted since (or the old one expired), so the
     * copy would bring back what was deleted.
     */
    private Outcome copyAcrossSlots(final String oldKey, final Move move) {
        RType type = redis.getKeys().getType(oldKey);
        if (type == null) {
            return Outcome.GONE;
        }
        if (type != move.type()) {
            return Outcome.OTHER_TYPE;
        }
        RBucket<Object> old = redis.getBucket(oldKey, ByteArrayCodec.INSTANCE);
        long ttl = old.remainTimeToLive();
        byte[] state = old.dump();
        if (state == null || ttl == -2) {
            return Outcome.GONE;
        }
        RBucket<Object> copy = redis.getBucket(move.target(), ByteArrayCodec.INSTANCE);
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

    /** {@code <oldPrefix><id>} goes to {@code newName(id)}; an id its store refuses is not one of its keys. */
    private static OldKeys named(final String store, final String oldPrefix, final UnaryOperator<String> newName,
            final RType type) {
        return new OldKeys(store, oldPrefix, oldName -> {
            try {
                return Optional.of(new Move(newName.apply(oldName.substring(oldPrefix.length())), type));
            } catch (StoreException e) {
                return Optional.empty();
            }
        });
    }

    /** A conversation's list {@code <prefix><key>}, or its metadata hash {@code <prefix><key>:metadata}. */
    private static Optional<Move> conversation(final MemoryStore memory, final String prefix, final String oldName) {
        String key = oldName.substring(prefix.length());
        String suffix = MemoryStore.METADATA_SUFFIX;
        try {
            return Optional.of(key.endsWith(suffix)
                    ? new Move(memory.metadataKey(key.substring(0, key.length() - suffix.length())), RType.MAP)
                    : new Move(memory.fullKey(key), RType.LIST));
        } catch (StoreException e) {
            return Optional.empty();
        }
    }

    /** A resource's value {@code <prefix><project>:<type>:<id>[:ver:<version>]}, or its ETag (the same + :etag). */
    private static Optional<Move> resource(final String prefix, final String oldName) {
        boolean etag = oldName.endsWith(ResourceKey.ETAG_SUFFIX);
        String value = etag ? oldName.substring(0, oldName.length() - ResourceKey.ETAG_SUFFIX.length()) : oldName;
        String rest = value.substring(prefix.length());
        int afterProject = rest.indexOf(':');
        int afterType = afterProject < 0 ? -1 : rest.indexOf(':', afterProject + 1);
        if (afterType < 0) {
            return Optional.empty();
        }
        try {
            ResourceKey.fromSuffix(rest.substring(0, afterProject), rest.substring(afterProject + 1, afterType),
                    rest.substring(afterType + 1));
        } catch (StoreException e) {
            return Optional.empty();
        }
        // The store's value key is the old value name as its hash tag (ResourceStore.valueKey).
        String target = HashTag.of(value);
        return Optional.of(new Move(etag ? target + ResourceKey.ETAG_SUFFIX : target, RType.OBJECT));
    }

    /**
     * The keys the stores wrote for a name beginning with '}' before {@link HashTag} wrote each leading '}' as '~':
     * {@code {<name>}} and {@code {<name>}<secondary>}, which go where {@code before} sends {@code <name>} and
     * {@code <name><secondary>}.
     */
    private static OldKeys emptyTag(final OldKeys before, final String scanPrefix, final String secondary) {
        return new OldKeys(before.store(), scanPrefix, oldKey -> {
            String suffix = oldKey.endsWith("}" + secondary) ? secondary : oldKey.endsWith("}") ? "" : null;
            if (suffix == null) {
                return Optional.empty();
            }
            return before.target().apply(oldKey.substring(1, oldKey.length() - suffix.length() - 1) + suffix);
        });
    }

    /** One kind of old key: the prefix to SCAN for and, for each name found, where it goes (empty: not a store's). */
    private record OldKeys(String store, String scanPrefix, Function<String, Optional<Move>> target) {
    }

    /** Where an old key goes, and the type its store writes there. */
    private record Move(String target, RType type) {
    }

    /** What became of one key a SCAN listed. */
    private enum Outcome {
        MOVED,
        /** It expired, or another server moved it, since the SCAN. */
        GONE,
        /** Its name is a store's, its type is not: another application's key. */
        OTHER_TYPE,
        /** It shares a prefix, but no store writes that name. */
        OTHER_SHAPE,
        /** Both layouts hold the entity; the new one wins. */
        TAKEN
    }
}
