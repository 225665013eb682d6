package io.compozy.cache.web.client;

import io.compozy.cache.api.CacheConnection;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import org.redisson.api.RedissonClient;

/**
 * Makes the adapter's one shared client injectable: {@code @Inject RedissonClient redis;}. The client
 * is taken once through a connection handle ({@link CacheConnection#sharedClient()}) and stays valid
 * for as long as the adapter runs; it refuses {@code shutdown()}, which belongs to the adapter.
 */
@ApplicationScoped
public class CacheClientProducer {

    @Inject
    CacheConnections connections;

    @Produces
    @ApplicationScoped
    RedissonClient sharedClient() {
        return connections.call(CacheConnection::sharedClient);
    }
}
