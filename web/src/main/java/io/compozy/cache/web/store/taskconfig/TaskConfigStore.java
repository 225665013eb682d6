package io.compozy.cache.web.store.taskconfig;

import io.compozy.cache.web.observe.Metered;
import io.compozy.cache.web.store.JsonText;
import io.compozy.cache.web.store.KeyPatterns;
import io.compozy.cache.web.store.StoreException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonValue;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.redisson.api.RBucket;
import org.redisson.api.RedissonClient;
import org.redisson.api.options.KeysScanOptions;
import org.redisson.client.codec.StringCodec;

/**
 * Task configurations and their metadata (see docs/stores.md, "Task config store"). Entries live for the
 * configured TTL after their last write or read: reading extends the TTL.
 */
@ApplicationScoped
public class TaskConfigStore {

    /** Config key of the entries' TTL (ISO-8601); default 24 hours. */
    public static final String TTL_KEY = "stores.task_configs.ttl";
    public static final String DEFAULT_TTL = "PT24H";

    static final String CONFIG_PREFIX = "config:";
    static final String METADATA_PREFIX = "metadata:";

    private final RedissonClient redis;
    private final Duration ttl;

    /** For CDI's proxy only. */
    protected TaskConfigStore() {
        this.redis = null;
        this.ttl = null;
    }

    @Inject
    public TaskConfigStore(final RedissonClient redis,
            @ConfigProperty(name = TTL_KEY, defaultValue = DEFAULT_TTL) final Duration ttl) {
        this.redis = Objects.requireNonNull(redis, "redis");
        if (ttl == null || ttl.toMillis() <= 0) {
            throw new IllegalArgumentException(TTL_KEY + " must be a positive duration, got " + ttl);
        }
        this.ttl = ttl;
    }

    /** The TTL written with every entry and restored by every read. */
    public Duration ttl() {
        return ttl;
    }

    /** {@code SET config:{taskExecId} json} with the TTL. */
    @Metered("task_config_save")
    public void save(final String taskExecId, final JsonValue config) {
        write(CONFIG_PREFIX, taskExecId, "task execution id", config);
    }

    /** The config, extending its TTL; empty when missing or expired. */
    @Metered(value = "task_config_get", absent = "not_found")
    public Optional<JsonValue> get(final String taskExecId) {
        return read(CONFIG_PREFIX, taskExecId, "task execution id");
    }

    /** Removes a config; true when it existed. */
    @Metered(value = "task_config_delete", absent = "not_found")
    public boolean delete(final String taskExecId) {
        return bucket(CONFIG_PREFIX, taskExecId, "task execution id").delete();
    }

    /** Sets the config's TTL to {@code newTtl} (EXPIRE); false when the config is missing. */
    @Metered(value = "task_config_extend_ttl", absent = "not_found")
    public boolean extendTtl(final String taskExecId, final Duration newTtl) {
        if (newTtl == null || newTtl.toMillis() <= 0) {
            throw StoreException.invalid("a TTL must be positive, got " + newTtl);
        }
        return bucket(CONFIG_PREFIX, taskExecId, "task execution id").expire(newTtl);
    }

    /**
     * The config's remaining TTL; empty when it has none.
     *
     * @throws StoreException {@code NOT_FOUND} when the config is missing
     */
    @Metered(value = "task_config_ttl", absent = "not_found")
    public Optional<Duration> remainingTtl(final String taskExecId) {
        long millis = bucket(CONFIG_PREFIX, taskExecId, "task execution id").remainTimeToLive();
        if (millis == -2) {
            throw StoreException.notFound("task config '" + taskExecId + "' does not exist (or expired)");
        }
        return millis < 0 ? Optional.empty() : Optional.of(Duration.ofMillis(millis));
    }

    /** Every task execution id with a config ({@code SCAN MATCH config:*}). */
    @Metered("task_config_list")
    public List<String> listIds() {
        return scan(CONFIG_PREFIX);
    }

    /** {@code SET metadata:{key} json} with the TTL. */
    @Metered("task_config_save_metadata")
    public void saveMetadata(final String key, final JsonValue metadata) {
        write(METADATA_PREFIX, key, "metadata key", metadata);
    }

    /** The metadata, extending its TTL; empty when missing or expired. */
    @Metered(value = "task_config_get_metadata", absent = "not_found")
    public Optional<JsonValue> getMetadata(final String key) {
        return read(METADATA_PREFIX, key, "metadata key");
    }

    /** Removes metadata; true when it existed. */
    @Metered(value = "task_config_delete_metadata", absent = "not_found")
    public boolean deleteMetadata(final String key) {
        return bucket(METADATA_PREFIX, key, "metadata key").delete();
    }

    /** Every metadata key ({@code SCAN MATCH metadata:*}). */
    @Metered("task_config_list_metadata")
    public List<String> listMetadataKeys() {
        return scan(METADATA_PREFIX);
    }

    private void write(final String prefix, final String id, final String what, final JsonValue value) {
        Objects.requireNonNull(value, "value");
        bucket(prefix, id, what).set(value.toString(), ttl);
    }

    private Optional<JsonValue> read(final String prefix, final String id, final String what) {
        String json = bucket(prefix, id, what).getAndExpire(ttl); // GETEX key PX ttl
        return Optional.ofNullable(json).map(text -> JsonText.parseStored(text, prefix + id));
    }

    private RBucket<String> bucket(final String prefix, final String id, final String what) {
        return redis.getBucket(prefix + StoreException.requireText(id, what), StringCodec.INSTANCE);
    }

    private List<String> scan(final String prefix) {
        try (var keys = redis.getKeys().getKeysStream(KeysScanOptions.defaults()
                .pattern(KeyPatterns.startingWith(prefix)).chunkSize(500))) {
            return keys.map(key -> key.substring(prefix.length())).distinct().sorted().toList();
        }
    }
}
