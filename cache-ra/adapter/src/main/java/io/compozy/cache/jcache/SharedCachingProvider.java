package io.compozy.cache.jcache;

import io.compozy.cache.config.JCacheSettings;
import java.net.URI;
import java.util.ArrayList;
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
 * client of its own). One manager per (class loader, URI), as JSR-107 asks; entries are Java-serialized
 * and read back with the manager's class loader, so an application's own classes come back as themselves.
 */
public final class SharedCachingProvider implements CachingProvider {

    /** The URI of the default manager (the only one most applications need). */
    public static final URI DEFAULT_URI = URI.create("compozy-cache:jcache");
    /** Prefix of the URIs under which Redisson registers each manager's JMX beans (statistics). */
    public static final String MBEAN_MANAGER_PREFIX = "compozy-cache.jcache";

    private final Redisson client;
    private final JCacheSettings settings;
    /** Redisson's provider, private to this one: it builds the managers our managers wrap. */
    private final JCachingProvider redisson = new JCachingProvider();
    private final Map<ClassLoader, Map<URI, SharedCacheManager>> managers = new HashMap<>();
    private final AtomicLong sequence = new AtomicLong();

    /**
     * @param client the adapter's client itself (Redisson's JCache needs the concrete {@code Redisson})
     * @param settings the caches every manager starts with
     */
    public SharedCachingProvider(final RedissonClient client, final JCacheSettings settings) {
        this.client = (Redisson) client;
        this.settings = settings;
    }

    @Override
    public synchronized CacheManager getCacheManager(final URI uri, final ClassLoader classLoader,
                                                     final Properties properties) {
        URI key = uri == null ? DEFAULT_URI : uri;
        ClassLoader loader = classLoader == null ? getDefaultClassLoader() : classLoader;
        Map<URI, SharedCacheManager> byUri = managers.computeIfAbsent(loader, l -> new HashMap<>());
        SharedCacheManager manager = byUri.get(key);
        if (manager == null || manager.isClosed()) {
            // A URI of its own per manager keeps each manager's statistics beans apart in JMX.
            URI internal = URI.create(MBEAN_MANAGER_PREFIX + "-" + sequence.incrementAndGet() + ":" + key);
            CacheManager inner = redisson.getCacheManager(internal, loader,
                    properties == null ? getDefaultProperties() : properties);
            manager = new SharedCacheManager(this, key, loader, inner);
            byUri.put(key, manager);
            manager.createDeclaredCaches(settings);
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

    /** Called by a manager that closed. */
    synchronized void forget(final SharedCacheManager manager) {
        Map<URI, SharedCacheManager> byUri = managers.get(manager.getClassLoader());
        if (byUri != null && byUri.get(manager.getURI()) == manager) {
            byUri.remove(manager.getURI());
            if (byUri.isEmpty()) {
                managers.remove(manager.getClassLoader());
            }
        }
    }

    private synchronized List<SharedCacheManager> snapshot(final ClassLoader loader, final URI uri) {
        List<SharedCacheManager> found = new ArrayList<>();
        managers.forEach((l, byUri) -> byUri.forEach((u, manager) -> {
            if ((loader == null || l == loader) && (uri == null || u.equals(uri))) {
                found.add(manager);
            }
        }));
        return found;
    }

    Redisson client() {
        return client;
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
