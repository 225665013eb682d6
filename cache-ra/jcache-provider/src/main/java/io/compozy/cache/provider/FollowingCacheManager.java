package io.compozy.cache.provider;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.Configuration;
import javax.cache.spi.CachingProvider;

/**
 * The CacheManager Liberty keeps, following the resource adapter across its restarts: when the adapter
 * stops (a RAR update), the managers and caches it handed out close; the next call here takes the new
 * adapter's manager and creates again, with the configuration Liberty gave, the caches Liberty created.
 * A dynamic proxy forwards every other JCache method unchanged.
 */
final class FollowingCacheManager implements InvocationHandler {

    private final CompozyCachingProvider facade;
    private final URI uri;
    private final ClassLoader classLoader;
    private final Properties properties;
    private final Map<String, Configuration<?, ?>> created = new ConcurrentHashMap<>();
    private final CacheManager proxy;
    private CachingProvider adapter;
    private CacheManager current;
    private volatile boolean closed;

    FollowingCacheManager(final CompozyCachingProvider facade, final URI uri, final ClassLoader classLoader,
                          final Properties properties) {
        this.facade = facade;
        this.uri = uri;
        this.classLoader = classLoader;
        this.properties = properties;
        this.proxy = (CacheManager) Proxy.newProxyInstance(CacheManager.class.getClassLoader(),
                new Class<?>[] {CacheManager.class}, this);
        target(true); // created while the adapter starts or is being replaced: wait for it
    }

    CacheManager proxy() {
        return proxy;
    }

    URI uri() {
        return uri;
    }

    ClassLoader classLoader() {
        return classLoader;
    }

    /** The running adapter's manager, taken again after the adapter restarted. */
    private synchronized CacheManager target() {
        return target(false);
    }

    /** @param waitAcrossStop whether to wait for an adapter that stopped (only creation does; calls fail at once) */
    private synchronized CacheManager target(final boolean waitAcrossStop) {
        CachingProvider running = waitAcrossStop ? SharedProvider.await() : SharedProvider.running();
        if (current == null || running != adapter || current.isClosed()) {
            current = running.getCacheManager(uri, classLoader, properties);
            adapter = running;
        }
        return current;
    }

    /** The cache {@code name} in the running adapter's manager, created again there when Liberty created it. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    Cache<?, ?> resolve(final String name) {
        CacheManager manager = target();
        Configuration configuration = created.get(name);
        if (configuration == null) {
            return manager.getCache(name); // a declared cache: every adapter manager has it
        }
        synchronized (this) {
            Cache<?, ?> cache = manager.getCache(name, configuration.getKeyType(), configuration.getValueType());
            return cache != null ? cache : manager.createCache(name, configuration);
        }
    }

    @Override
    public Object invoke(final Object self, final Method method, final Object[] args) throws Throwable {
        if (method.getDeclaringClass() == Object.class) {
            return objectMethod(self, method, args, "CompozyCacheManager[" + uri + "]");
        }
        switch (method.getName()) {
            case "getCachingProvider":
                return facade;
            case "getURI":
                return uri;
            case "getClassLoader":
                return classLoader;
            case "isClosed":
                return closed;
            case "close":
                closed = true;
                synchronized (this) {
                    if (current != null) {
                        current.close();
                    }
                }
                facade.forget(this);
                return null;
            default:
                break;
        }
        if (closed) {
            throw new IllegalStateException("This CacheManager is closed");
        }
        // Manager calls (getCache, createCache) come from a session store being set up, also while a replaced
        // adapter comes back: they wait for it. Calls on caches do not (see FollowingCache, resolve).
        Object result = forward(target(true), method, args);
        return switch (method.getName()) {
            case "createCache" -> {
                created.put((String) args[0], (Configuration<?, ?>) args[1]);
                yield FollowingCache.of(this, (String) args[0]);
            }
            case "getCache" -> result == null ? null : FollowingCache.of(this, (String) args[0]);
            case "destroyCache" -> {
                created.remove((String) args[0]);
                yield result;
            }
            default -> result;
        };
    }

    /** A proxy's own equals, hashCode and toString: identity, and a name for logs. */
    static Object objectMethod(final Object self, final Method method, final Object[] args, final String name) {
        return switch (method.getName()) {
            case "equals" -> self == args[0];
            case "hashCode" -> System.identityHashCode(self);
            default -> name;
        };
    }

    static Object forward(final Object target, final Method method, final Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** A cache of the following manager: each call goes to the cache of the adapter running now. */
    static final class FollowingCache implements InvocationHandler {

        private final FollowingCacheManager manager;
        private final String name;
        private volatile Cache<?, ?> current;

        private FollowingCache(final FollowingCacheManager manager, final String name) {
            this.manager = manager;
            this.name = name;
        }

        static Cache<?, ?> of(final FollowingCacheManager manager, final String name) {
            return (Cache<?, ?>) Proxy.newProxyInstance(Cache.class.getClassLoader(), new Class<?>[] {Cache.class},
                    new FollowingCache(manager, name));
        }

        @Override
        public Object invoke(final Object self, final Method method, final Object[] args) throws Throwable {
            if (method.getDeclaringClass() == Object.class) {
                return objectMethod(self, method, args, "CompozyCache[" + name + "]");
            }
            switch (method.getName()) {
                case "getName":
                    return name;
                case "getCacheManager":
                    return manager.proxy();
                default:
                    break;
            }
            Cache<?, ?> cache = current;
            if (cache == null || cache.isClosed()) {
                cache = manager.resolve(name);
                if (cache == null) {
                    throw new IllegalStateException("The cache '" + name + "' no longer exists");
                }
                current = cache;
            }
            return forward(cache, method, args);
        }
    }
}
