package io.compozy.cache.web.workflow;

import io.compozy.cache.web.store.LuaScript;
import io.compozy.cache.web.store.StoreException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.redisson.api.RBucket;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

/**
 * Execution state: one JSON document per execution at {@code execution:{execId}}, rewritten at every
 * step and kept for {@value #TTL_KEY} (default 24 h, as long as the execution's event stream).
 * Living in Redis, it is in the snapshots with everything else and survives a restart.
 */
@ApplicationScoped
public class ExecutionStore {

    /** Config key of how long an execution's state is kept after its last change (ISO-8601). */
    public static final String TTL_KEY = "workflows.execution_ttl";
    public static final String DEFAULT_TTL = "PT24H";

    static final String KEY_PREFIX = "execution:";
    private static final LuaScript SAVE_UNLESS_ENDED = LuaScript.load(ExecutionStore.class, "save_unless_ended.lua");

    private final RedissonClient redis;
    private final Duration ttl;

    /** For CDI's proxy only. */
    protected ExecutionStore() {
        this.redis = null;
        this.ttl = null;
    }

    @Inject
    public ExecutionStore(final RedissonClient redis,
            @ConfigProperty(name = TTL_KEY, defaultValue = DEFAULT_TTL) final Duration ttl) {
        this.redis = Objects.requireNonNull(redis, "redis");
        if (ttl == null || ttl.toMillis() <= 0) {
            throw new IllegalArgumentException(TTL_KEY + " must be a positive duration, got " + ttl);
        }
        this.ttl = ttl;
    }

    public static String key(final String execId) {
        return KEY_PREFIX + StoreException.requireText(execId, "execution id");
    }

    /** How long state, and the default conversation memory, are kept. */
    public Duration ttl() {
        return ttl;
    }

    /** Writes a new execution; false when the id is taken. */
    boolean create(final Execution execution) {
        return bucket(execution.id).setIfAbsent(execution.toJson().toString(), ttl);
    }

    /**
     * Rewrites the state unless the stored one has ended (succeeded or failed) and is not this very state:
     * a terminal state is never overwritten, whoever wrote it. One script, so no writer can slip in between
     * the check and the write; a repeat of the same write answers true.
     *
     * @return false when the execution had already ended (nothing written)
     */
    boolean saveUnlessEnded(final Execution execution) {
        Long written = SAVE_UNLESS_ENDED.eval(redis, RScript.ReturnType.INTEGER, List.of(key(execution.id)),
                execution.toJson().toString(), ttl.toMillis());
        return written == 1;
    }

    /** The execution's JSON as stored; empty when unknown or expired. */
    public Optional<String> find(final String execId) {
        return Optional.ofNullable(bucket(execId).get());
    }

    private RBucket<String> bucket(final String execId) {
        return redis.getBucket(key(execId), StringCodec.INSTANCE);
    }
}
