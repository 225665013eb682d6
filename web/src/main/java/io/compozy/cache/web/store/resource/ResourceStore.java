package io.compozy.cache.web.store.resource;

import io.compozy.cache.web.observe.Metered;
import io.compozy.cache.web.store.HashTag;
import io.compozy.cache.web.store.KeyPatterns;
import io.compozy.cache.web.store.LuaScript;
import io.compozy.cache.web.store.StoreException;
import io.compozy.cache.web.store.StoreExecutors;
import io.compozy.cache.web.store.Subscription;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonValue;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.redisson.api.BatchOptions;
import org.redisson.api.RBatch;
import org.redisson.api.RFuture;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.api.options.KeysScanOptions;
import org.redisson.client.codec.StringCodec;

/**
 * Versioned configuration with ETags (see docs/stores.md, "Resource store"). Values are stored as
 * {@link CanonicalJson}; the ETag is the hex SHA-256 of exactly the stored bytes, so any process
 * computes the same one.
 */
@ApplicationScoped
public class ResourceStore {

    private static final Logger LOG = Logger.getLogger(ResourceStore.class.getName());

    /** Config key of the key prefix; default {@value #DEFAULT_PREFIX}. */
    public static final String PREFIX_KEY = "stores.resources.prefix";
    public static final String DEFAULT_PREFIX = "res";
    /** Config key of how often a watch re-lists to heal missed events (ISO-8601); default 30 s. */
    public static final String WATCH_RESYNC_KEY = "stores.resources.watch_resync";
    public static final String DEFAULT_WATCH_RESYNC = "PT30S";

    private static final LuaScript PUT_IF_MATCH = LuaScript.load(ResourceStore.class, "put_if_match.lua");
    private static final LuaScript DELETE = LuaScript.load(ResourceStore.class, "delete.lua");
    private static final int LIST_CHUNK = 500;

    private final RedissonClient redis;
    private final ScheduledExecutorService scheduler;
    private final String prefix;
    private final Duration watchResync;

    /** For CDI's proxy only. */
    protected ResourceStore() {
        this.redis = null;
        this.scheduler = null;
        this.prefix = null;
        this.watchResync = null;
    }

    @Inject
    public ResourceStore(final RedissonClient redis, final StoreExecutors executors,
            @ConfigProperty(name = PREFIX_KEY, defaultValue = DEFAULT_PREFIX) final String prefix,
            @ConfigProperty(name = WATCH_RESYNC_KEY, defaultValue = DEFAULT_WATCH_RESYNC) final Duration watchResync) {
        this(redis, executors.scheduler(), prefix, watchResync);
    }

    /** @param scheduler runs the watches' periodic re-sync; its owner shuts it down */
    public ResourceStore(final RedissonClient redis, final ScheduledExecutorService scheduler, final String prefix,
            final Duration watchResync) {
        this.redis = Objects.requireNonNull(redis, "redis");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.prefix = StoreException.requireText(prefix, PREFIX_KEY);
        if (watchResync == null || watchResync.toMillis() <= 0) {
            throw new IllegalArgumentException(WATCH_RESYNC_KEY + " must be a positive duration, got " + watchResync);
        }
        this.watchResync = watchResync;
    }

    /** {@code {<prefix>:<project>:<type>:<id>[:ver:<version>]}}: its own hash tag ({@link HashTag}). */
    public String valueKey(final ResourceKey key) {
        return HashTag.of(typePrefix(key.project(), key.type()) + key.suffix());
    }

    /** The value key plus {@code :etag}: in the value's hash slot, so both change in one script. */
    public String etagKey(final ResourceKey key) {
        return valueKey(key) + ResourceKey.ETAG_SUFFIX;
    }

    /** {@code {prefix}:events:{project}:{type}} */
    public String eventChannel(final String project, final String type) {
        return prefix + ":events:" + project + ":" + type;
    }

    /** Writes value and ETag together (MULTI/EXEC), then publishes a {@code put} event. */
    @Metered("resource_put")
    public StoredResource put(final ResourceKey key, final JsonValue value) {
        StoredResource stored = canonical(key, value);
        RBatch batch = redis.createBatch(BatchOptions.defaults()
                .executionMode(BatchOptions.ExecutionMode.IN_MEMORY_ATOMIC));
        batch.getBucket(valueKey(key), StringCodec.INSTANCE).setAsync(stored.json());
        batch.getBucket(etagKey(key), StringCodec.INSTANCE).setAsync(stored.etag());
        batch.execute();
        publish(new ResourceEvent(ResourceEvent.PUT, key, stored.etag(), Instant.now()));
        return stored;
    }

    /**
     * Compare-and-set. With an {@code expectedEtag}, replaces the value only while its bytes are still
     * the ones that ETag names; with an empty one, inserts only when absent.
     *
     * @throws StoreException {@code NOT_FOUND} (nothing to compare with), {@code ETAG_MISMATCH} (the value
     *     changed) or {@code ALREADY_EXISTS} (insert-if-absent found a value)
     */
    @Metered("resource_put_if_match")
    public StoredResource putIfMatch(final ResourceKey key, final JsonValue value, final String expectedEtag) {
        StoredResource stored = canonical(key, value);
        String valueKey = valueKey(key);
        boolean insertOnly = expectedEtag == null || expectedEtag.isEmpty();
        String seen = "";
        if (!insertOnly) {
            seen = redis.<String>getBucket(valueKey, StringCodec.INSTANCE).get();
            if (seen == null) {
                throw notFound(key);
            }
            if (!CanonicalJson.etagOf(seen).equals(expectedEtag)) {
                throw mismatch(key, expectedEtag);
            }
        }
        String outcome = PUT_IF_MATCH.eval(redis, RScript.ReturnType.STATUS, List.of(valueKey, etagKey(key)),
                insertOnly ? "absent" : "match", seen, stored.json(), stored.etag());
        switch (outcome) {
            case "OK" -> {
                publish(new ResourceEvent(ResourceEvent.PUT, key, stored.etag(), Instant.now()));
                return stored;
            }
            case "NOT_FOUND" -> throw notFound(key);
            case "MISMATCH" -> throw mismatch(key, expectedEtag);
            case "ALREADY_EXISTS" -> throw new StoreException(StoreException.Reason.ALREADY_EXISTS,
                    "resource " + describe(key) + " already exists; send its ETag to replace it");
            default -> throw new IllegalStateException("put_if_match.lua answered " + outcome);
        }
    }

    /** The stored value and its ETag (recomputed from the bytes when the ETag key is missing). */
    @Metered("resource_get")
    public StoredResource get(final ResourceKey key) {
        String valueKey = valueKey(key);
        String etagKey = etagKey(key);
        Map<String, String> both = redis.getBuckets(StringCodec.INSTANCE).get(valueKey, etagKey); // one MGET
        String json = both.get(valueKey);
        if (json == null) {
            throw notFound(key);
        }
        return new StoredResource(key, json, Optional.ofNullable(both.get(etagKey)).orElseGet(() -> CanonicalJson.etagOf(json)));
    }

    /** Deletes value and ETag in one script; publishes a {@code delete} event when something was there. */
    @Metered(value = "resource_delete", absent = "not_found")
    public Optional<StoredResource> delete(final ResourceKey key) {
        String old = DELETE.eval(redis, RScript.ReturnType.VALUE, List.of(valueKey(key), etagKey(key)));
        if (old == null) {
            return Optional.empty();
        }
        StoredResource removed = new StoredResource(key, old, CanonicalJson.etagOf(old));
        publish(new ResourceEvent(ResourceEvent.DELETE, key, removed.etag(), Instant.now()));
        return Optional.of(removed);
    }

    /** The keys and ETags of every resource of a project and type (SCAN, never KEYS), sorted by id. */
    @Metered("resource_list")
    public List<ResourceTag> list(final String project, final String type) {
        return listWithValues(project, type).stream().map(r -> new ResourceTag(r.key(), r.etag())).toList();
    }

    /** Every resource of a project and type with its value, sorted by id then version. */
    @Metered("resource_list")
    public List<StoredResource> listWithValues(final String project, final String type) {
        // Every value key starts with the opening of typePrefix ("{" + typePrefix, HashTag) and ends with "}"; its
        // ETag key ends with "}:etag". The SCAN covers every master of a Cluster.
        String typePrefix = HashTag.opening(typePrefix(project, type));
        List<String> keys;
        try (var stream = redis.getKeys().getKeysStream(KeysScanOptions.defaults()
                .pattern(KeyPatterns.startingWith(typePrefix)).chunkSize(LIST_CHUNK))) {
            keys = stream.filter(k -> k.endsWith("}") && !k.endsWith(ResourceKey.ETAG_SUFFIX)).distinct().toList();
        }
        List<StoredResource> found = new ArrayList<>(keys.size());
        for (int from = 0; from < keys.size(); from += LIST_CHUNK) {
            found.addAll(fetch(project, type, typePrefix, keys.subList(from, Math.min(keys.size(), from + LIST_CHUNK))));
        }
        found.sort(Comparator.comparing((StoredResource r) -> r.key().id())
                .thenComparing(r -> r.key().versionIfAny().orElse("")));
        return found;
    }

    /**
     * Watch: {@code listener} first receives a synthetic {@code put} for every existing resource, then
     * every put and delete; a periodic re-list heals missed messages. Events reach the listener one at
     * a time. Close the subscription to stop.
     */
    @Metered("resource_watch")
    public Subscription watch(final String project, final String type, final Consumer<ResourceEvent> listener) {
        ResourceKey.of(project, type, "x"); // validates project and type
        ResourceWatch watch = new ResourceWatch(this, project, type, listener);
        watch.start(redis.getTopic(eventChannel(project, type), StringCodec.INSTANCE), scheduler, watchResync);
        return watch;
    }

    private List<StoredResource> fetch(final String project, final String type, final String typePrefix,
            final List<String> keys) {
        RBatch pipeline = redis.createBatch(BatchOptions.defaults());
        List<RFuture<String>> values = new ArrayList<>(keys.size());
        List<RFuture<String>> etags = new ArrayList<>(keys.size());
        for (String key : keys) {
            values.add(pipeline.<String>getBucket(key, StringCodec.INSTANCE).getAsync());
            etags.add(pipeline.<String>getBucket(key + ResourceKey.ETAG_SUFFIX, StringCodec.INSTANCE).getAsync());
        }
        pipeline.execute();
        List<StoredResource> found = new ArrayList<>(keys.size());
        for (int i = 0; i < keys.size(); i++) {
            String json = values.get(i).toCompletableFuture().join();
            if (json == null) {
                continue; // deleted since the SCAN saw it
            }
            String rawKey = keys.get(i);
            ResourceKey key;
            try {
                key = ResourceKey.fromSuffix(project, type,
                        rawKey.substring(typePrefix.length(), rawKey.length() - 1));
            } catch (StoreException e) {
                LOG.fine(() -> "skipping key '" + rawKey + "' that no resource id can produce");
                continue;
            }
            String etag = etags.get(i).toCompletableFuture().join();
            found.add(new StoredResource(key, json, etag != null ? etag : CanonicalJson.etagOf(json)));
        }
        return found;
    }

    private String typePrefix(final String project, final String type) {
        return prefix + ":" + project + ":" + type + ":";
    }

    private static StoredResource canonical(final ResourceKey key, final JsonValue value) {
        String json = CanonicalJson.write(Objects.requireNonNull(value, "value"));
        return new StoredResource(Objects.requireNonNull(key, "key"), json, CanonicalJson.etagOf(json));
    }

    private void publish(final ResourceEvent event) {
        try {
            redis.getTopic(eventChannel(event.key().project(), event.key().type()), StringCodec.INSTANCE)
                    .publish(event.toJson().toString());
        } catch (RuntimeException e) {
            // The write is done; watchers heal at their next re-sync.
            LOG.log(Level.WARNING, "could not publish the " + event.type() + " event of " + describe(event.key()), e);
        }
    }

    private static StoreException notFound(final ResourceKey key) {
        return StoreException.notFound("resource " + describe(key) + " does not exist");
    }

    private static StoreException mismatch(final ResourceKey key, final String expectedEtag) {
        return new StoreException(StoreException.Reason.ETAG_MISMATCH, "resource " + describe(key)
                + " has changed since ETag " + expectedEtag + "; read it again and retry with its current ETag");
    }

    static String describe(final ResourceKey key) {
        return key.project() + "/" + key.type() + "/" + key.id() + key.versionIfAny().map(v -> " version " + v).orElse("");
    }
}
