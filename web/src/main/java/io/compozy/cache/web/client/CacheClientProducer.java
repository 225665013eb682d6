package io.compozy.cache.web.client;

import io.compozy.cache.api.CacheConnection;
import io.compozy.cache.api.CacheConnectionFactory;
import jakarta.annotation.Resource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.enterprise.inject.Typed;
import jakarta.resource.ResourceException;
import org.redisson.api.RedissonClient;

/**
 * Makes the adapter's shared client injectable: {@code @Inject RedissonClient redis;} (or
 * {@code CacheConnection} for the backend details). The application holds one connection handle
 * for its lifetime and gives it back when it stops; the client itself belongs to the adapter.
 */
@ApplicationScoped
public class CacheClientProducer {

    @Resource(lookup = CacheConnectionFactory.JNDI_NAME)
    private CacheConnectionFactory connectionFactory;

    @Produces
    @ApplicationScoped
    @Typed({CacheConnection.class, RedissonClient.class})
    CacheConnection connection() throws ResourceException {
        return connectionFactory.getConnection();
    }

    void release(@Disposes final CacheConnection connection) {
        connection.close();
    }
}
