package io.compozy.cache.api;

import jakarta.resource.Referenceable;
import jakarta.resource.ResourceException;
import java.io.Serializable;

/**
 * The connection factory bound in JNDI at {@value #JNDI_NAME}.
 *
 * <pre>{@code
 * @Resource(lookup = CacheConnectionFactory.JNDI_NAME)
 * CacheConnectionFactory cache;
 *
 * try (CacheConnection redis = cache.getConnection()) {
 *     redis.getBucket("greeting", StringCodec.INSTANCE).set("hello");
 * }
 * }</pre>
 */
public interface CacheConnectionFactory extends Serializable, Referenceable {

    /** Where the server configuration binds the factory. */
    String JNDI_NAME = "eis/compozy/cache";

    /**
     * Opens a handle on the adapter's one shared {@code RedissonClient}.
     *
     * @throws ResourceException when the adapter has not started (for example an invalid
     *     configuration or an unreachable Redis); the message says why
     */
    CacheConnection getConnection() throws ResourceException;
}
