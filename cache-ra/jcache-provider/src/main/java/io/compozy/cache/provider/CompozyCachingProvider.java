package io.compozy.cache.provider;

import java.net.URI;
import java.util.Properties;
import javax.cache.CacheManager;
import javax.cache.configuration.OptionalFeature;
import javax.cache.spi.CachingProvider;

/**
 * The JCache provider that a Liberty {@code <library>} exposes (for {@code <httpSessionCache libraryRef=...>}):
 * every call goes to the resource adapter's provider, so the caches live in the adapter's one Redis
 * through its one client, whatever port and password the embedded server got at this start. Holds no
 * state of its own; Liberty may create and close as many of these as it likes.
 */
public final class CompozyCachingProvider implements CachingProvider {

    /** What {@code close()} of this facade closed: only the managers obtained through it. */
    private final java.util.Set<CacheManager> obtained = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private static CachingProvider adapter() {
        return SharedProvider.await();
    }

    @Override
    public CacheManager getCacheManager(final URI uri, final ClassLoader classLoader, final Properties properties) {
        CacheManager manager = new FollowingCacheManager(this, uri == null ? getDefaultURI() : uri,
                classLoader == null ? getDefaultClassLoader() : classLoader,
                properties == null ? getDefaultProperties() : properties).proxy();
        obtained.add(manager);
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
        obtained.forEach(CacheManager::close);
        obtained.clear();
    }

    @Override
    public void close(final ClassLoader classLoader) {
        obtained.removeIf(manager -> {
            if (manager.getClassLoader() == classLoader) {
                manager.close();
                return true;
            }
            return false;
        });
    }

    @Override
    public void close(final URI uri, final ClassLoader classLoader) {
        obtained.removeIf(manager -> {
            if (manager.getClassLoader() == classLoader && manager.getURI().equals(uri)) {
                manager.close();
                return true;
            }
            return false;
        });
    }

    @Override
    public boolean isSupported(final OptionalFeature feature) {
        return adapter().isSupported(feature);
    }
}
