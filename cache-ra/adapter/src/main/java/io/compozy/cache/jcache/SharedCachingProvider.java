package io.compozy.cache.jcache;

import io.compozy.cache.config.JCacheSettings;
import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import javax.cache.CacheManager;
import javax.cache.configuration.OptionalFeature;
import javax.cache.spi.CachingProvider;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.Codec;
import org.redisson.jcache.JCachingProvider;

/**
 * The JCache provider of a started adapter: every {@link CacheManager} it hands out keeps its caches in
 * the adapter's Redis through the adapter's one client (Redisson's JCache over that client, never a
 * client of its own). One manager per (URI, class loader) until it is closed, then a new one, as JSR-107
 * asks; a closed manager is forgotten however it was closed, so its class loader is not kept. Entries are
 * Java-serialized and read back with the manager's class loader, so an application's own classes come
 * back as themselves, and only the classes the allow-list names ({@link DeserializationAllowList}).
 */
public final class SharedCachingProvider implements CachingProvider {

    /** The URI of the default manager (the only one most applications need). */
    public static final URI DEFAULT_URI = URI.create("compozy-cache:jcache");
    /** Prefix of the URIs under which Redisson registers each manager's JMX beans (statistics). */
    public static final String MBEAN_MANAGER_PREFIX = "compozy-cache.jcache";

    private final Redisson client;
    private final JCacheSettings settings;
    private final DeserializationAllowList allowList;
    /**
     * Redisson's provider, private to this one: it builds the managers ours wrap. Every close of one of them
     * ends here (also {@code cache.getCacheManager().close()}, which reaches Redisson's manager directly),
     * so this is where ours are forgotten.
     */
    private final JCachingProvider redisson = new JCachingProvider() {
        @Override
        public void close(final URI internal, final ClassLoader classLoader) {
            super.close(internal, classLoader);
            forget(internal);
        }
    };
    private final Map<ManagerKey, SharedCacheManager> open = new HashMap<>();
    /** Shared by every provider (a prefixed factory has its own): the managers' JMX names stay apart. */
    private static final AtomicLong SEQUENCE = new AtomicLong();

    /** What JSR-107 keys a manager by: its URI and its class loader (by identity). */
    private record ManagerKey(URI uri, ClassLoader classLoader) {
    }

    /**
     * @param client the adapter's client itself (Redisson's JCache needs the concrete {@code Redisson})
     * @param settings the caches every manager starts with
     */
    public SharedCachingProvider(final RedissonClient client, final JCacheSettings settings) {
        this(client, settings, new DeserializationAllowList(settings.allowedClasses()));
    }

    /** A provider on another client (a prefixed connection factory's) that refuses and counts with {@code allowList}. */
    public SharedCachingProvider(final RedissonClient client, final JCacheSettings settings,
                                 final DeserializationAllowList allowList) {
        this.client = (Redisson) client;
        this.settings = settings;
        this.allowList = allowList;
    }

    @Override
    public synchronized CacheManager getCacheManager(final URI uri, final ClassLoader classLoader,
                                                     final Properties properties) {
        ManagerKey key = new ManagerKey(uri == null ? DEFAULT_URI : uri,
                classLoader == null ? getDefaultClassLoader() : classLoader);
        SharedCacheManager manager = open.get(key);
        if (manager == null) {
            // A URI of its own per manager keeps each manager's statistics beans apart in JMX.
            URI internal = URI.create(MBEAN_MANAGER_PREFIX + "-" + SEQUENCE.incrementAndGet() + ":" + key.uri());
            CacheManager inner = redisson.getCacheManager(internal, key.classLoader(),
                    properties == null ? getDefaultProperties() : properties);
            manager = new SharedCacheManager(this, key.uri(), key.classLoader(), inner);
            try {
                manager.createDeclaredCaches(settings);
            } catch (RuntimeException e) {
                inner.close(); // not handed out: the next call tries again
                throw e;
            }
            open.put(key, manager);
        }
        return manager;
    }

    @Override
    public CacheManager getCacheManager(final URI uri, final ClassLoader classLoader) {
        return getCacheManager(uri, classLoader, getDefaultProperties());
    }

    @Override
    public CacheManager getCacheManager() {
        return getCacheManager(getDefaultURI(), getDefaultClassLoader());
    }

    /** The manager of an application: its class loader reads the entries back. */
    public CacheManager managerFor(final ClassLoader classLoader) {
        return getCacheManager(DEFAULT_URI, classLoader);
    }

    @Override
    public ClassLoader getDefaultClassLoader() {
        return getClass().getClassLoader();
    }

    @Override
    public URI getDefaultURI() {
        return DEFAULT_URI;
    }

    @Override
    public Properties getDefaultProperties() {
        return new Properties();
    }

    /**
     * Closes every manager (their caches' data stays in Redis); the adapter calls it when it stops. As
     * JSR-107 says, a later {@code getCacheManager} starts afresh.
     */
    @Override
    public void close() {
        for (SharedCacheManager manager : snapshot(null, null)) {
            manager.close();
        }
    }

    @Override
    public void close(final ClassLoader classLoader) {
        for (SharedCacheManager manager : snapshot(classLoader, null)) {
            manager.close();
        }
    }

    @Override
    public void close(final URI uri, final ClassLoader classLoader) {
        for (SharedCacheManager manager : snapshot(classLoader, uri)) {
            manager.close();
        }
    }

    /** Store-by-reference is not offered: entries are always copies (serialized into Redis). */
    @Override
    public boolean isSupported(final OptionalFeature feature) {
        return false;
    }

    /** The manager whose Redisson manager (of URI {@code internal}) closed: a later call makes a new one. */
    private synchronized void forget(final URI internal) {
        open.values().removeIf(manager -> manager.internalUri().equals(internal));
    }

    private synchronized List<SharedCacheManager> snapshot(final ClassLoader loader, final URI uri) {
        return open.entrySet().stream()
                .filter(entry -> (loader == null || entry.getKey().classLoader() == loader)
                        && (uri == null || entry.getKey().uri().equals(uri)))
                .map(Map.Entry::getValue).toList();
    }

    Redisson client() {
        return client;
    }

    /** What every manager's values may be read back as ({@link JCacheSettings#ALLOWED_CLASSES}). */
    public DeserializationAllowList allowList() {
        return allowList;
    }

    /**
     * Runs {@code create} while the client's configuration names {@code codec} as its codec. Redisson's
     * JCache takes its codec from {@code redisson.getConfig().getCodec()} when a cache is built and keeps
     * it; the adapter's own codec (strings) cannot hold Java objects. {@code getConfig()} is the object the
     * client was created from; its connections use a copy, and Redisson reads this codec back only to
     * build a JCache and to resolve Redisson object references (live objects, which the product does not
     * use). Naming another codec for the duration of one creation, under one lock, changes nothing else.
     */
    <T> T withCodec(final Codec codec, final Supplier<T> create) {
        synchronized (client.getConfig()) {
            Codec previous = client.getConfig().getCodec();
            client.getConfig().setCodec(codec);
            try {
                return create.get();
            } finally {
                client.getConfig().setCodec(previous);
            }
        }
    }
}
