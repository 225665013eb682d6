package io.compozy.cache.web.store.webhook;

import io.compozy.cache.web.observe.Metered;
import io.compozy.cache.web.store.StoreException;
import io.compozy.cache.web.store.TokenClaim;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.time.Duration;
import java.util.Objects;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

/** Tells first deliveries of a webhook from duplicates (see docs/stores.md, "Webhook idempotency"). */
@ApplicationScoped
public class WebhookIdempotency {

    /** Config key of how long a delivered key is remembered (ISO-8601); default 10 minutes. */
    public static final String TTL_KEY = "stores.webhooks.ttl";
    public static final String DEFAULT_TTL = "PT10M";
    /** Config key of the JSON body field read when no X-Idempotency-Key header is sent. */
    public static final String KEY_FIELD_KEY = "stores.webhooks.key_field";
    public static final String DEFAULT_KEY_FIELD = "idempotency_key";
    /** Longest idempotency key kept: each is remembered for the TTL, so a sender cannot park megabytes. */
    public static final String MAX_KEY_LENGTH_KEY = "stores.webhooks.max_key_length";
    public static final String DEFAULT_MAX_KEY_LENGTH = "256";

    static final String KEY_PREFIX = "idempotency:webhook:";

    private final RedissonClient redis;
    private final Duration ttl;
    private final String keyField;
    private final int maxKeyLength;

    /** For CDI's proxy only. */
    protected WebhookIdempotency() {
        this.maxKeyLength = 0;
        this.redis = null;
        this.ttl = null;
        this.keyField = null;
    }

    /** With the default {@value #DEFAULT_MAX_KEY_LENGTH}-character key limit. */
    public WebhookIdempotency(final RedissonClient redis, final Duration ttl, final String keyField) {
        this(redis, ttl, keyField, Integer.parseInt(DEFAULT_MAX_KEY_LENGTH));
    }

    @Inject
    public WebhookIdempotency(final RedissonClient redis,
            @ConfigProperty(name = TTL_KEY, defaultValue = DEFAULT_TTL) final Duration ttl,
            @ConfigProperty(name = KEY_FIELD_KEY, defaultValue = DEFAULT_KEY_FIELD) final String keyField,
            @ConfigProperty(name = MAX_KEY_LENGTH_KEY, defaultValue = DEFAULT_MAX_KEY_LENGTH) final int maxKeyLength) {
        this.redis = Objects.requireNonNull(redis, "redis");
        if (maxKeyLength < 1) {
            throw new IllegalArgumentException(MAX_KEY_LENGTH_KEY + " must be at least 1, got " + maxKeyLength);
        }
        this.maxKeyLength = maxKeyLength;
        if (ttl == null || ttl.toMillis() <= 0) {
            throw new IllegalArgumentException(TTL_KEY + " must be a positive duration, got " + ttl);
        }
        this.ttl = ttl;
        this.keyField = StoreException.requireText(keyField, KEY_FIELD_KEY);
    }

    /** The body field that carries the idempotency key when the header is absent. */
    public String keyField() {
        return keyField;
    }

    /** The Redis key remembering a delivery. */
    public String deliveryKey(final String namespace, final String idempotencyKey) {
        return KEY_PREFIX + StoreException.requireText(namespace, "webhook namespace") + ":"
                + StoreException.requireText(idempotencyKey, "idempotency key");
    }

    /**
     * Records a delivery; true the first time within the TTL, false for a duplicate. A delivery whose record
     * fails (Redis away, its reply lost) is not left recorded: the sender's retry of it is a first delivery.
     */
    @Metered(value = "webhook_check", absent = "duplicate")
    public boolean firstDelivery(final String namespace, final String idempotencyKey) {
        return TokenClaim.claim(redis, deliveryKey(namespace, idempotencyKey), TokenClaim.newToken(), ttl);
    }

    /** Forgets a delivery that was recorded but not accepted, so its retry counts as a first delivery. */
    @Metered("webhook_forget")
    public void forget(final String namespace, final String idempotencyKey) {
        redis.getBucket(deliveryKey(namespace, idempotencyKey), StringCodec.INSTANCE).delete();
    }

    /**
     * The idempotency key of a delivery: the header when present, else the configured body field (a
     * string or a number).
     *
     * @throws StoreException {@code INVALID_ARGUMENT} when neither gives a key, saying what to send
     */
    public String idempotencyKey(final String header, final JsonValue body) {
        if (header != null && !header.isBlank()) {
            return limited(header.strip());
        }
        if (body instanceof JsonObject object && object.containsKey(keyField)) {
            JsonValue field = object.get(keyField);
            if (field instanceof JsonString text && !text.getString().isBlank()) {
                return limited(text.getString());
            }
            if (field instanceof JsonNumber number) {
                return limited(number.toString());
            }
            throw StoreException.invalid("the body field '" + keyField + "' must be a non-empty string or a number");
        }
        throw StoreException.invalid("no idempotency key: send an X-Idempotency-Key header or a '" + keyField
                + "' field in the JSON body");
    }

    private String limited(final String key) {
        if (key.length() > maxKeyLength) {
            throw StoreException.invalid("the idempotency key has " + key.length() + " characters; at most "
                    + maxKeyLength + " are kept (" + MAX_KEY_LENGTH_KEY + ")");
        }
        return key;
    }
}
