package io.compozy.cache.web.store;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

/**
 * A key claimed with {@code SET key token NX PX ttl}, holding a random token of its claimer (a lock, a
 * webhook delivery). The token makes the claim safe to take back: a claim whose reply was lost (Redis ran
 * the SET, the caller got a timeout or a closed connection) is deleted by its token at once, so it is not
 * left claimed by nobody until its TTL, and a claim someone else made meanwhile is never touched.
 */
public final class TokenClaim {

    private static final LuaScript DELETE_IF_OWNED = LuaScript.load(TokenClaim.class, "delete_if_owned.lua");
    private static final SecureRandom TOKENS = new SecureRandom();

    /** What {@link #release} found. */
    public enum Release { RELEASED, NOBODY, OTHER_OWNER }

    private TokenClaim() {
    }

    /** A random 128-bit token, in hex. */
    public static String newToken() {
        byte[] bytes = new byte[16];
        TOKENS.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /**
     * Claims {@code key} for {@code token} when nobody holds it; false when someone does. When the SET fails
     * (its outcome unknown to this caller), the claim is taken back by its token before the failure is
     * thrown; if that fails too, the TTL frees the key.
     */
    public static boolean claim(final RedissonClient redis, final String key, final String token,
            final Duration ttl) {
        try {
            return redis.getBucket(key, StringCodec.INSTANCE).setIfAbsent(token, ttl);
        } catch (RuntimeException unknownOutcome) {
            try {
                release(redis, key, token);
            } catch (RuntimeException takingBack) {
                unknownOutcome.addSuppressed(takingBack);
            }
            throw unknownOutcome;
        }
    }

    /** Deletes {@code key} only when {@code token} owns it (compare and delete, one script). */
    public static Release release(final RedissonClient redis, final String key, final String token) {
        Long result = DELETE_IF_OWNED.eval(redis, RScript.ReturnType.INTEGER, List.of(key), token);
        return result > 0 ? Release.RELEASED : result == 0 ? Release.NOBODY : Release.OTHER_OWNER;
    }
}
