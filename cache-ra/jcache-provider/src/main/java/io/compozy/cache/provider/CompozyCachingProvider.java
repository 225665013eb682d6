package io.compozy.cache.provider;

import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import javax.cache.CacheManager;
import javax.cache.configuration.OptionalFeature;
import javax.cache.spi.CachingProvider;

/**
 * The JCache provider that a Liberty {@code <library>} exposes (for {@code <httpSessionCache libraryRef=...>}):
 * every call goes to the resource adapter's provider, so the caches live in the adapter's one Redis
 * through its one client, whatever port and password the embedded server got at this start.
 *
 * <p>As JSR-107 asks, one manager per (URI, class loader) until it is closed, then a new one; a closed
 * manager is forgotten at once, so neither it nor its class loader stays reachable from here.
 */
public final class CompozyCachingProvider implements CachingProvider {

    /** The open managers this facade handed out. */
    private final Map<Key, FollowingCacheManager> open = new HashMap<>();

    /** JSR-107's key of a manager: its URI and its class loader (by identity). */
    private record Key(URI uri, ClassLoader classLoader) {
    }

    private static CachingProvider adapter() {
        return SharedProvider.await();
    }

    /** Creating a manager waits for the adapter (see {@link SharedProvider#await()}), under this lock. */
    @Override
    public synchronized CacheManager getCacheManager(final URI uri, final ClassLoader classLoader,
                                                     final Properties properties) {
        Key key = new Key(uri == null ? getDefaultURI() : uri,
                classLoader == null ? getDefaultClassLoader() : classLoader);
        FollowingCacheManager manager = open.get(key);
        if (manager == null) {
            manager = new FollowingCacheManager(this, key.uri(), key.classLoader(),
                    properties == null ? getDefaultProperties() : properties);
            open.put(key, manager);
        }
        return manager.proxy();
    }

    @Override
    public CacheManager getCacheManager(final URI uri, final ClassLoader classLoader) {
        return getCacheManager(uri, classLoader, getDefaultProperties());
    }

    @Override
    public CacheManager getCacheManager() {
        return getCacheManager(getDefaultURI(), getDefaultClassLoader());
    }

    @Override
    public ClassLoader getDefaultClassLoader() {
        return adapter().getDefaultClassLoader();
    }

    @Override
    public URI getDefaultURI() {
        return adapter().getDefaultURI();
    }

    @Override
    public Properties getDefaultProperties() {
        return adapter().getDefaultProperties();
    }

    /** Closes the managers this facade handed out (never the shared client: the adapter owns it). */
    @Override
    public void close() {
        closeAll(null, null);
    }

    @Override
    public void close(final ClassLoader classLoader) {
        closeAll(classLoader, null);
    }

    @Override
    public void close(final URI uri, final ClassLoader classLoader) {
        closeAll(classLoader, uri);
    }

    @Override
    public boolean isSupported(final OptionalFeature feature) {
        return adapter().isSupported(feature);
    }

    /** Called by a manager as it closes: the next {@code getCacheManager} for its key makes a new one. */
    synchronized void forget(final FollowingCacheManager manager) {
        open.remove(new Key(manager.uri(), manager.classLoader()), manager);
    }

    /** Closes (outside the lock: each close calls {@link #forget}) the managers of a loader and URI, null for any. */
    private void closeAll(final ClassLoader loader, final URI uri) {
        List<FollowingCacheManager> closing;
        synchronized (this) {
            closing = open.entrySet().stream()
                    .filter(entry -> (loader == null || entry.getKey().classLoader() == loader)
                            && (uri == null || entry.getKey().uri().equals(uri)))
                    .map(Map.Entry::getValue).toList();
        }
        closing.forEach(manager -> manager.proxy().close());
    }
}
