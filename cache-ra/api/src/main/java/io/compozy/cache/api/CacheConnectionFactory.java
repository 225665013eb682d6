package io.compozy.cache.api;

import jakarta.resource.Referenceable;
import jakarta.resource.ResourceException;
import java.io.Serializable;

/**
 * A connection factory of the server configuration: the shipped one at {@value #JNDI_NAME} for every
 * application, the administrator's at {@value #ADMIN_JNDI_NAME} for the product itself, and any an operator adds
 * for one application (its own key prefix and Redis user; docs/security.md).
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

    /** Where the server configuration binds the factory every application may use. */
    String JNDI_NAME = "eis/compozy/cache";

    /** The administrator's factory (the adapter's own client, snapshots included), for the product's EAR only. */
    String ADMIN_JNDI_NAME = "eis/compozy/admin";

    /**
     * Opens a handle on this factory's client: the adapter's, or the one walled in by the factory's prefix and
     * Redis user.
     *
     * @throws ResourceException when the adapter has not started (for example an invalid
     *     configuration or an unreachable Redis, or an invalid factory property); the message says why
     * @throws SecurityException when the factory serves only other applications (its {@code applications})
     */
    CacheConnection getConnection() throws ResourceException;
}
