package io.compozy.cache.web.store.memory;

import io.compozy.cache.web.observe.Metered;
import io.compozy.cache.web.store.HashTag;
import io.compozy.cache.web.store.JsonText;
import io.compozy.cache.web.store.LuaScript;
import io.compozy.cache.web.store.StoreException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonValue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.redisson.api.BatchOptions;
import org.redisson.api.BatchResult;
import org.redisson.api.RBatch;
import org.redisson.api.RFuture;
import org.redisson.api.RListAsync;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

/**
 * Conversation history (see docs/stores.md, "Memory store"). A conversation's keys are the list
 * {@code {<prefix><key>}} and the hash {@code {<prefix><key>}:metadata}, in one hash slot ({@link HashTag});
 * a {@code :} is added when the prefix lacks one. Every write that touches the counts runs as one Lua script, so
 * concurrent appends never lose a message or a count.
 *
 * <p>The spec's {@code append_lock}, {@code clear_lock} and {@code flush_lock} are not taken: append,
 * replace and trim are each one script (Redis runs a script alone), clear is one DEL of both keys, and
 * a flush is guarded by the flush-pending mark (SET NX). A lock around an atomic step would only add two
 * round trips and a way to block on a crashed holder (docs/stores.md, "Memory store").
 */
@ApplicationScoped
public class MemoryStore {

    /** Config key of the key prefix; default {@value #DEFAULT_PREFIX}. */
    public static final String PREFIX_KEY = "stores.memory.prefix";
    public static final String DEFAULT_PREFIX = "memory:";

    /** Most messages a conversation keeps; an append past it is refused whole. */
    public static final String MAX_MESSAGES_KEY = "stores.memory.max_messages";
    public static final String DEFAULT_MAX_MESSAGES = "10000";
    /** Most bytes (of the messages' JSON, UTF-8) a conversation keeps; an append past it is refused whole. */
    public static final String MAX_BYTES_KEY = "stores.memory.max_bytes";
    public static final String DEFAULT_MAX_BYTES = "16777216";

    static final String TOKEN_COUNT = "token_count";
    static final String MESSAGE_COUNT = "message_count";
    /** What a conversation's metadata hash adds to its list's key. */
    public static final String METADATA_SUFFIX = ":metadata";
    static final String FLUSH_PENDING_PREFIX = "__compozy_internal__:flush_pending:";
    static final Duration FLUSH_PENDING_TTL = Duration.ofMinutes(30);

    private static final LuaScript APPEND_AND_TRIM = LuaScript.load(MemoryStore.class, "append_and_trim.lua");
    private static final LuaScript REPLACE = LuaScript.load(MemoryStore.class, "replace_messages.lua");
    private static final LuaScript TRIM = LuaScript.load(MemoryStore.class, "trim_messages.lua");

    private final RedissonClient redis;
    private final String prefix;
    private final long maxMessages;
    private final long maxBytes;

    /** For CDI's proxy only. */
    protected MemoryStore() {
        this.redis = null;
        this.prefix = null;
        this.maxMessages = 0;
        this.maxBytes = 0;
    }

    /** With the default limits per conversation. */
    public MemoryStore(final RedissonClient redis, final String prefix) {
        this(redis, prefix, Long.parseLong(DEFAULT_MAX_MESSAGES), Long.parseLong(DEFAULT_MAX_BYTES));
    }

    @Inject
    public MemoryStore(final RedissonClient redis,
            @ConfigProperty(name = PREFIX_KEY, defaultValue = DEFAULT_PREFIX) final String prefix,
            @ConfigProperty(name = MAX_MESSAGES_KEY, defaultValue = DEFAULT_MAX_MESSAGES) final long maxMessages,
            @ConfigProperty(name = MAX_BYTES_KEY, defaultValue = DEFAULT_MAX_BYTES) final long maxBytes) {
        this.redis = Objects.requireNonNull(redis, "redis");
        this.prefix = normalizedPrefix(prefix);
        if (maxMessages < 1 || maxBytes < 1) {
            throw new IllegalArgumentException(MAX_MESSAGES_KEY + " and " + MAX_BYTES_KEY + " must each be at least 1");
        }
        this.maxMessages = maxMessages;
        this.maxBytes = maxBytes;
    }

    /** The prefix as keys use it: a {@code :} is added when a non-empty prefix lacks one. */
    public static String normalizedPrefix(final String prefix) {
        String given = Objects.requireNonNull(prefix, "prefix");
        return given.isEmpty() || given.endsWith(":") ? given : given + ":";
    }

    /**
     * The Redis key of a conversation's message list: {@code {prefix+key}}, its own hash tag (a name that begins
     * with {@code }}, possible under an empty prefix, is written {@code ~{...}}: {@link HashTag}).
     */
    public String fullKey(final String key) {
        if (StoreException.requireText(key, "memory key").endsWith(METADATA_SUFFIX)) {
            // "chat:metadata" would be the list of one conversation and the metadata hash of another.
            throw StoreException.invalid("memory key '" + key + "' may not end with '" + METADATA_SUFFIX
                    + "' (that suffix marks a conversation's metadata)");
        }
        if ((prefix + key).chars().allMatch(c -> c == '}')) {
            // Only possible with an empty prefix: "}}" leaves no character to make a hash tag of (HashTag).
            throw StoreException.invalid("memory key '" + key + "' needs a character other than '}' while "
                    + PREFIX_KEY + " is empty");
        }
        return HashTag.of(prefix + key);
    }

    /** The Redis key of a conversation's metadata hash. */
    public String metadataKey(final String key) {
        return fullKey(key) + METADATA_SUFFIX;
    }

    /**
     * AppendAndTrimWithMetadata: appends {@code messages} in order, adds {@code tokenIncrement} to the
     * token count (only when positive) and trims to the newest {@code maxLen} messages when
     * {@code maxLen > 0}.
     *
     * @return the list length afterwards
     * @throws StoreException {@code LIMIT_REACHED} naming {@value #MAX_MESSAGES_KEY} or {@value #MAX_BYTES_KEY} when
     *     the conversation would pass it after the trim; nothing is appended then
     */
    @Metered("memory_append")
    public long append(final String key, final List<JsonValue> messages, final long tokenIncrement,
            final int maxLen) {
        Objects.requireNonNull(messages, "messages");
        Object[] args = new Object[messages.size() + 4];
        args[0] = Math.max(0, maxLen);
        args[1] = tokenIncrement;
        args[2] = maxMessages;
        args[3] = maxBytes;
        for (int i = 0; i < messages.size(); i++) {
            args[i + 4] = Objects.requireNonNull(messages.get(i), "message").toString();
        }
        long length = APPEND_AND_TRIM.<Long>eval(redis, RScript.ReturnType.INTEGER,
                List.of(fullKey(key), metadataKey(key)), args);
        if (length == -1) {
            throw full(key, "more than " + maxMessages + " messages (" + MAX_MESSAGES_KEY + ")");
        }
        if (length == -2) {
            throw full(key, "more than " + maxBytes + " bytes of messages (" + MAX_BYTES_KEY + ")");
        }
        return length;
    }

    private static StoreException full(final String key, final String limit) {
        return new StoreException(StoreException.Reason.LIMIT_REACHED, "memory '" + key + "' would hold " + limit
                + "; nothing was appended. Trim or clear it, or append with max_len");
    }

    /**
     * ReplaceMessagesWithMetadata: the history becomes exactly {@code messages}, the token count
     * {@code tokenCount}; a TTL the list had is kept on both keys.
     */
    @Metered("memory_replace")
    public void replace(final String key, final List<JsonValue> messages, final long tokenCount) {
        Objects.requireNonNull(messages, "messages");
        if (messages.size() > maxMessages) {
            throw full(key, messages.size() + " messages, more than " + maxMessages + " (" + MAX_MESSAGES_KEY + ")");
        }
        long bytes = messages.stream().mapToLong(m -> m.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length)
                .sum();
        if (bytes > maxBytes) {
            throw full(key, bytes + " bytes of messages, more than " + maxBytes + " (" + MAX_BYTES_KEY + ")");
        }
        long remainingTtl = redis.getList(fullKey(key), StringCodec.INSTANCE).remainTimeToLive();
        Object[] args = new Object[messages.size() + 2];
        args[0] = Math.max(0, remainingTtl); // -1 (no TTL) and -2 (no key) both mean none
        args[1] = tokenCount;
        for (int i = 0; i < messages.size(); i++) {
            args[i + 2] = Objects.requireNonNull(messages.get(i), "message").toString();
        }
        REPLACE.<Long>eval(redis, RScript.ReturnType.INTEGER, List.of(fullKey(key), metadataKey(key)), args);
    }

    /**
     * TrimMessagesWithMetadata: keeps the newest {@code keep} messages and sets the token count.
     *
     * @return the list length afterwards
     */
    @Metered("memory_trim")
    public long trim(final String key, final int keep, final long tokenCount) {
        if (keep < 0) {
            throw StoreException.invalid("keep must be 0 or more, got " + keep);
        }
        return TRIM.<Long>eval(redis, RScript.ReturnType.INTEGER, List.of(fullKey(key), metadataKey(key)),
                keep, tokenCount);
    }

    /** Every message, oldest first; an element that is not JSON fails the read. */
    @Metered("memory_read")
    public List<JsonValue> readAll(final String key) {
        String fullKey = fullKey(key);
        return decode(redis.<String>getList(fullKey, StringCodec.INSTANCE).readAll(), fullKey);
    }

    /**
     * The messages {@code offset .. offset+limit-1} and the total, read together. A negative offset
     * counts as 0; a limit of 0 or less gives an empty slice; a slice past the end is cut short.
     */
    @Metered("memory_read_page")
    public MessagePage readPage(final String key, final int offset, final int limit) {
        String fullKey = fullKey(key);
        int from = Math.max(0, offset);
        RBatch batch = redis.createBatch(BatchOptions.defaults()
                .executionMode(BatchOptions.ExecutionMode.IN_MEMORY_ATOMIC));
        RListAsync<String> list = batch.getList(fullKey, StringCodec.INSTANCE);
        RFuture<Integer> total = list.sizeAsync();
        // In long: "no limit" arrives as Integer.MAX_VALUE, and from + limit would overflow.
        int to = (int) Math.min(Integer.MAX_VALUE, (long) from + limit - 1);
        RFuture<List<String>> slice = limit > 0 ? list.rangeAsync(from, to) : null;
        batch.execute();
        try {
            List<JsonValue> messages = slice == null ? List.of() : decode(slice.get(), fullKey);
            return new MessagePage(messages, total.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading " + fullKey, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("reading " + fullKey + " failed", e.getCause());
        }
    }

    /** LLEN of the message list. */
    @Metered("memory_count")
    public long count(final String key) {
        return redis.getList(fullKey(key), StringCodec.INSTANCE).size();
    }

    /** The stored token count (0 when missing). */
    @Metered("memory_token_count")
    public long tokenCount(final String key) {
        return metadata(key).get(TOKEN_COUNT);
    }

    /** The stored message count (0 when missing). */
    @Metered("memory_message_count")
    public long messageCount(final String key) {
        return metadata(key).get(MESSAGE_COUNT);
    }

    /** Both counts, read together: {@code token_count} and {@code message_count}. */
    @Metered("memory_metadata")
    public Map<String, Long> metadata(final String key) {
        String metadataKey = metadataKey(key);
        Map<String, String> fields = redis.<String, String>getMap(metadataKey, StringCodec.INSTANCE)
                .getAll(Set.of(TOKEN_COUNT, MESSAGE_COUNT));
        return Map.of(TOKEN_COUNT, parseCount(fields.get(TOKEN_COUNT), metadataKey),
                MESSAGE_COUNT, parseCount(fields.get(MESSAGE_COUNT), metadataKey));
    }

    /** Removes the history and its metadata; true when something was there. */
    @Metered(value = "memory_delete", absent = "not_found")
    public boolean delete(final String key) {
        return redis.getKeys().delete(fullKey(key), metadataKey(key)) > 0;
    }

    /** Expires the history and its metadata after {@code ttl}. */
    @Metered("memory_expire")
    public void setExpiration(final String key, final Duration ttl) {
        if (ttl == null || ttl.toMillis() <= 0) {
            throw StoreException.invalid("an expiration must be positive, got " + ttl);
        }
        RBatch batch = redis.createBatch(BatchOptions.defaults()
                .executionMode(BatchOptions.ExecutionMode.IN_MEMORY_ATOMIC));
        batch.getList(fullKey(key), StringCodec.INSTANCE).expireAsync(ttl);
        batch.getMap(metadataKey(key), StringCodec.INSTANCE).expireAsync(ttl);
        batch.execute();
    }

    /** Marks a flush as pending for 30 minutes; a second mark while pending is a {@code CONFLICT}. */
    @Metered("memory_flush_mark")
    public void markFlushPending(final String key) {
        String flagKey = FLUSH_PENDING_PREFIX + fullKey(key);
        if (!redis.getBucket(flagKey, StringCodec.INSTANCE).setIfAbsent("1", FLUSH_PENDING_TTL)) {
            throw new StoreException(StoreException.Reason.CONFLICT, "a flush of memory '" + key
                    + "' is already pending; wait for it to finish or clear the mark");
        }
    }

    /** Whether a flush is pending for {@code key}. */
    @Metered("memory_flush_check")
    public boolean isFlushPending(final String key) {
        return redis.getBucket(FLUSH_PENDING_PREFIX + fullKey(key), StringCodec.INSTANCE).isExists();
    }

    /** Clears the flush-pending mark. */
    @Metered("memory_flush_clear")
    public void clearFlushPending(final String key) {
        redis.getBucket(FLUSH_PENDING_PREFIX + fullKey(key), StringCodec.INSTANCE).delete();
    }

    private static List<JsonValue> decode(final List<String> raw, final String fullKey) {
        List<JsonValue> messages = new ArrayList<>(raw.size());
        for (int i = 0; i < raw.size(); i++) {
            messages.add(JsonText.parseStored(raw.get(i), fullKey + "[" + i + "]"));
        }
        return messages;
    }

    private static long parseCount(final String value, final String metadataKey) {
        if (value == null) {
            return 0;
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new StoreException(StoreException.Reason.CORRUPT_DATA,
                    "the metadata hash '" + metadataKey + "' holds a count that is not a number", e);
        }
    }
}
