package io.compozy.cache.jcache;

import io.compozy.cache.config.JCacheSettings;
import java.io.IOException;
import java.net.URI;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.Configuration;
import javax.cache.configuration.Factory;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.expiry.AccessedExpiryPolicy;
import javax.cache.expiry.CreatedExpiryPolicy;
import javax.cache.expiry.EternalExpiryPolicy;
import javax.cache.expiry.ExpiryPolicy;
import javax.cache.expiry.ModifiedExpiryPolicy;
import javax.cache.expiry.TouchedExpiryPolicy;
import javax.cache.spi.CachingProvider;
import org.redisson.client.codec.ByteArrayCodec;
import org.redisson.client.codec.Codec;
import org.redisson.client.protocol.Decoder;
import org.redisson.client.protocol.Encoder;
import org.redisson.codec.SerializationCodec;
import org.redisson.jcache.configuration.RedissonConfiguration;

/**
 * One application's view of the JCache caches: Redisson's {@code JCacheManager} for that class loader,
 * with every cache built on the adapter's client and a codec that deserializes with the class loader.
 * Closing it closes its caches (the data stays in Redis) and never the client.
 */
final class SharedCacheManager implements CacheManager {

    private static final Logger LOG = Logger.getLogger(SharedCacheManager.class.getName());

    private final SharedCachingProvider provider;
    private final URI uri;
    private final ClassLoader classLoader;
    private final CacheManager redisson;
    /**
     * Java serialization, read back with this manager's class loader through the adapter's allow-list (JSR-107
     * stores by value): {@link ManagerCodec}.
     */
    private final Codec codec;

    SharedCacheManager(final SharedCachingProvider provider, final URI uri, final ClassLoader classLoader,
                       final CacheManager redisson) {
        this.provider = provider;
        this.uri = uri;
        this.classLoader = classLoader;
        this.redisson = redisson;
        this.codec = new ManagerCodec(classLoader, provider.allowList());
    }

    /** The caches of {@code compozy.jcache.caches}: present before the application asks for them. */
    void createDeclaredCaches(final JCacheSettings settings) {
        for (JCacheSettings.DeclaredCache declared : settings.caches()) {
            MutableConfiguration<Object, Object> configuration = new MutableConfiguration<>()
                    .setExpiryPolicyFactory(expiry(declared))
                    .setStatisticsEnabled(true);
            createCache(declared.name(), configuration);
        }
    }

    private static Factory<? extends ExpiryPolicy> expiry(final JCacheSettings.DeclaredCache declared) {
        if (declared.duration().isEmpty()) {
            return EternalExpiryPolicy.factoryOf();
        }
        var duration = new javax.cache.expiry.Duration(TimeUnit.MILLISECONDS, declared.duration().get().toMillis());
        return switch (declared.expiry()) {
            case ACCESSED -> AccessedExpiryPolicy.factoryOf(duration);
            case MODIFIED -> ModifiedExpiryPolicy.factoryOf(duration);
            case TOUCHED -> TouchedExpiryPolicy.factoryOf(duration);
            default -> CreatedExpiryPolicy.factoryOf(duration);
        };
    }

    @Override
    public <K, V, C extends Configuration<K, V>> Cache<K, V> createCache(final String cacheName, final C configuration) {
        if (configuration instanceof RedissonConfiguration) {
            // It may carry a Redisson Config of its own, which would start a second client.
            throw new IllegalArgumentException("Cache '" + cacheName + "': pass a plain JCache configuration"
                    + " (MutableConfiguration); the Compozy cache builds every cache on its one shared client");
        }
        if (cacheName == null || configuration == null) {
            throw new NullPointerException("cacheName and configuration are required");
        }
        Cache<K, V> cache = provider.withCodec(codec, () -> redisson.createCache(cacheName,
                RedissonConfiguration.fromInstance(provider.client(), configuration)));
        LOG.fine(() -> "JCache cache '" + cacheName + "' created in " + uri);
        return cache;
    }

    @Override
    public <K, V> Cache<K, V> getCache(final String cacheName, final Class<K> keyType, final Class<V> valueType) {
        return redisson.getCache(cacheName, keyType, valueType);
    }

    @Override
    public <K, V> Cache<K, V> getCache(final String cacheName) {
        return redisson.getCache(cacheName);
    }

    @Override
    public Iterable<String> getCacheNames() {
        return redisson.getCacheNames();
    }

    @Override
    public void destroyCache(final String cacheName) {
        redisson.destroyCache(cacheName);
    }

    @Override
    public void enableManagement(final String cacheName, final boolean enabled) {
        redisson.enableManagement(cacheName, enabled);
    }

    @Override
    public void enableStatistics(final String cacheName, final boolean enabled) {
        redisson.enableStatistics(cacheName, enabled);
    }

    @Override
    public CachingProvider getCachingProvider() {
        return provider;
    }

    @Override
    public URI getURI() {
        return uri;
    }

    @Override
    public ClassLoader getClassLoader() {
        return classLoader;
    }

    @Override
    public Properties getProperties() {
        return redisson.getProperties();
    }

    /** Closes Redisson's manager, which tells the provider to forget this one. */
    @Override
    public void close() {
        redisson.close();
    }

    /** The URI of Redisson's manager underneath, one per manager. */
    URI internalUri() {
        return redisson.getURI();
    }

    @Override
    public boolean isClosed() {
        return redisson.isClosed();
    }

    /**
     * Java serialization read back with the manager's class loader, on every thread, so listeners running on
     * Redisson's threads still get the application's classes.
     *
     * <p>A {@link ByteArrayCodec} only by type: Redisson's command executor keeps every other codec in a static
     * map under the calling thread's context class loader (to swap in a copy for that loader when the codec
     * has a {@code (ClassLoader, itsOwnClass)} constructor), and entries leave it only when 100 other loaders
     * push them out. A cached codec of this manager would keep the application's class loader, after the
     * manager closed and the application went. Redisson passes the codecs it lists as plain (byte arrays,
     * strings) straight through, without that map.
     */
    static final class ManagerCodec extends ByteArrayCodec {

        private final SerializationCodec serialization;
        private final Decoder<Object> decoder;

        ManagerCodec(final ClassLoader classLoader, final DeserializationAllowList allowList) {
            this.serialization = new SerializationCodec(classLoader);
            this.decoder = (buf, state) -> {
                try {
                    return allowList.read(buf, classLoader);
                } catch (ClassNotFoundException e) {
                    throw new IOException(e);
                }
            };
        }

        /** Java serialization through the allow-list: a class outside it is refused, never instantiated. */
        @Override
        public Decoder<Object> getValueDecoder() {
            return decoder;
        }

        @Override
        public Encoder getValueEncoder() {
            return serialization.getValueEncoder();
        }

        @Override
        public ClassLoader getClassLoader() {
            return serialization.getClassLoader();
        }
    }

    @Override
    public <T> T unwrap(final Class<T> type) {
        if (type.isInstance(this)) {
            return type.cast(this);
        }
        return redisson.unwrap(type);
    }
}
