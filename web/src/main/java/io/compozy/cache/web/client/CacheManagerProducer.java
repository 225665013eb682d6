package io.compozy.cache.web.client;

import io.compozy.cache.api.CacheConnection;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import javax.cache.CacheManager;

/**
 * Makes JCache injectable: {@code @Inject CacheManager caches;}, the application's manager on the
 * adapter's one shared client ({@link CacheConnection#cacheManager()}), with the caches declared in
 * {@code compozy.jcache.caches}. Closed when the application stops; the entries stay in the cache.
 */
@ApplicationScoped
public class CacheManagerProducer {

    @Inject
    CacheConnections connections;

    @Produces
    @ApplicationScoped
    CacheManager cacheManager() {
        return connections.call(CacheConnection::cacheManager);
    }

    void close(@Disposes final CacheManager manager) {
        manager.close();
    }
}
