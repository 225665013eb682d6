package io.compozy.cache.web.workflow;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.redisson.api.RRateLimiter;
import org.redisson.api.RateType;
import org.redisson.api.RedissonClient;

/**
 * How many webhook deliveries a workflow takes per minute, counted in Redis for every server together
 * (Redisson's rate limiter), so a sender cannot start executions as fast as it can post. A delivery over the
 * limit starts nothing and gets 429 naming {@value #PER_MINUTE_KEY}.
 */
@ApplicationScoped
public class WebhookRateLimit {

    public static final String PER_MINUTE_KEY = "workflows.webhook_max_per_minute";
    public static final String DEFAULT_PER_MINUTE = "600";

    static final String KEY_PREFIX = "rate:webhook:";
    /** A workflow that gets no delivery for this long leaves no key behind. */
    private static final Duration KEEP_ALIVE = Duration.ofHours(1);
    private static final Duration INTERVAL = Duration.ofMinutes(1);

    private final RedissonClient redis;
    private final long perMinute;
    /** The limiters this server has set its configured rate on (the first use of each, here). */
    private final Set<String> configured = ConcurrentHashMap.newKeySet();

    /** For CDI's proxy only. */
    protected WebhookRateLimit() {
        this.redis = null;
        this.perMinute = 0;
    }

    @Inject
    public WebhookRateLimit(final RedissonClient redis,
            @ConfigProperty(name = PER_MINUTE_KEY, defaultValue = DEFAULT_PER_MINUTE) final long perMinute) {
        if (perMinute < 0) {
            throw new IllegalArgumentException(PER_MINUTE_KEY + " must be 0 (no limit) or more, got " + perMinute);
        }
        this.redis = Objects.requireNonNull(redis, "redis");
        this.perMinute = perMinute;
    }

    /** Takes one delivery's place; false when the workflow has had its deliveries of the last minute. */
    public boolean tryAcquire(final String project, final String workflow) {
        if (perMinute == 0) {
            return true;
        }
        RRateLimiter limiter = redis.getRateLimiter(KEY_PREFIX + "{" + project + "/" + workflow + "}");
        if (configured.add(limiter.getName())) {
            limiter.setRate(RateType.OVERALL, perMinute, INTERVAL, KEEP_ALIVE); // this server's configured rate
        } else {
            limiter.trySetRate(RateType.OVERALL, perMinute, INTERVAL, KEEP_ALIVE); // again, if it expired idle
        }
        return limiter.tryAcquire();
    }

    public long perMinute() {
        return perMinute;
    }
}
