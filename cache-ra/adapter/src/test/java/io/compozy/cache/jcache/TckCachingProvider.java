package io.compozy.cache.jcache;

import io.compozy.cache.adapter.CacheBackend;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ConfigLookup;
import io.compozy.cache.config.JCacheSettings;
import io.compozy.cache.config.PersistenceSettings;
import java.net.URI;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import javax.cache.CacheManager;
import javax.cache.configuration.OptionalFeature;
import javax.cache.spi.CachingProvider;

/**
 * The adapter's provider for the JSR-107 TCK ({@code bench/jcache-tck}): the TCK instantiates its
 * provider by class name, so this one starts an embedded redis-server and a backend on first use and
 * delegates to a {@link SharedCachingProvider} on that backend's client, as the adapter does.
 */
public final class TckCachingProvider implements CachingProvider {

    private static SharedCachingProvider shared;

    private static synchronized SharedCachingProvider shared() {
        if (shared == null) {
            try {
                var work = Files.createTempDirectory("jcache-tck");
                CacheBackend backend = CacheBackend.start(CacheSettings.load(ConfigLookup.of(Map.of("redis.mode",
                        "standalone", CacheSettings.WORK_DIR, work.toString(), PersistenceSettings.ENABLED, "false"))),
                        task -> {
                            Thread thread = new Thread(task, "tck-redis-output");
                            thread.setDaemon(true);
                            thread.start();
                        });
                Runtime.getRuntime().addShutdownHook(new Thread(backend::close));
                // The TCK's value classes, as an application names its own in compozy.jcache.allowed_classes.
                shared = new SharedCachingProvider(backend.client(), new JCacheSettings(List.of(),
                        "org.jsr107.tck.**;domain.**"));
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }
        return shared;
    }

    @Override
    public CacheManager getCacheManager(final URI uri, final ClassLoader classLoader, final Properties properties) {
        return shared().getCacheManager(uri, classLoader, properties);
    }

    @Override
    public ClassLoader getDefaultClassLoader() {
        return shared().getDefaultClassLoader();
    }

    @Override
    public URI getDefaultURI() {
        return shared().getDefaultURI();
    }

    @Override
    public Properties getDefaultProperties() {
        return shared().getDefaultProperties();
    }

    @Override
    public CacheManager getCacheManager(final URI uri, final ClassLoader classLoader) {
        return shared().getCacheManager(uri, classLoader);
    }

    @Override
    public CacheManager getCacheManager() {
        return shared().getCacheManager();
    }

    @Override
    public void close() {
        shared().close();
    }

    @Override
    public void close(final ClassLoader classLoader) {
        shared().close(classLoader);
    }

    @Override
    public void close(final URI uri, final ClassLoader classLoader) {
        shared().close(uri, classLoader);
    }

    @Override
    public boolean isSupported(final OptionalFeature feature) {
        return shared().isSupported(feature);
    }
}
