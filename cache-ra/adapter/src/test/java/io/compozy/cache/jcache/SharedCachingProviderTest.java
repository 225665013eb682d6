package io.compozy.cache.jcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.adapter.CacheBackend;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ConfigLookup;
import io.compozy.cache.config.JCacheSettings;
import io.compozy.cache.config.PersistenceSettings;
import java.lang.management.ManagementFactory;
import java.lang.ref.WeakReference;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.FactoryBuilder;
import javax.cache.configuration.MutableCacheEntryListenerConfiguration;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.event.CacheEntryCreatedListener;
import javax.cache.event.CacheEntryEvent;
import javax.cache.spi.CachingProvider;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.redisson.config.Config;
import org.redisson.jcache.configuration.RedissonConfiguration;

/**
 * JCache on one real embedded redis-server through the backend's one client, with caches declared in
 * configuration, as the adapter builds it at start.
 */
class SharedCachingProviderTest {

    private static final Executor PUMP = task -> {
        Thread thread = new Thread(task, "test-redis-output");
        thread.setDaemon(true);
        thread.start();
    };

    @TempDir
    static Path root;

    static CacheBackend backend;
    static SharedCachingProvider provider;

    @BeforeAll
    static void start() {
        backend = CacheBackend.start(CacheSettings.load(ConfigLookup.of(Map.of("redis.mode", "standalone",
                CacheSettings.WORK_DIR, root.resolve("work").toString(), PersistenceSettings.ENABLED, "false"))), PUMP);
        provider = new SharedCachingProvider(backend.client(),
                JCacheSettings.load(ConfigLookup.of(Map.of(JCacheSettings.CACHES, "products, prices=3s",
                        JCacheSettings.ALLOWED_CLASSES, Greeting.class.getName()))));
    }

    @AfterAll
    static void stop() {
        provider.close();
        backend.close();
    }

    @Test
    void declaredCachesAreInEveryManagerFromTheStart() {
        CacheManager manager = provider.getCacheManager(SharedCachingProvider.DEFAULT_URI, isolatedLoader());
        assertThat(manager.getCacheNames()).contains("products", "prices");
        Cache<Object, Object> products = manager.getCache("products");
        products.put("p1", "a book");
        assertThat(provider.getCacheManager().getCache("products").get("p1")).isEqualTo("a book");
    }

    @Test
    void aDeclaredExpiryRemovesTheEntryAndEternalEntriesStay() {
        Cache<Object, Object> prices = provider.getCacheManager().getCache("prices");
        Cache<Object, Object> products = provider.getCacheManager().getCache("products");
        prices.put("expiring", 42);
        products.put("eternal", 42);
        await().atMost(Duration.ofSeconds(30)).until(() -> !prices.containsKey("expiring"));
        assertThat(products.get("eternal")).isEqualTo(42);
    }

    @Test
    void applicationClassesComeBackThroughEachManagersOwnClassLoader() throws Exception {
        ClassLoader writerLoader = isolatedLoader();
        ClassLoader readerLoader = isolatedLoader();
        CacheManager writer = provider.getCacheManager(SharedCachingProvider.DEFAULT_URI, writerLoader);
        CacheManager reader = provider.getCacheManager(SharedCachingProvider.DEFAULT_URI, readerLoader);
        assertThat(writer).isNotSameAs(reader);
        writer.createCache("greetings", new MutableConfiguration<>());
        reader.createCache("greetings", new MutableConfiguration<>());

        Class<?> writerType = writerLoader.loadClass(Greeting.class.getName());
        Object hello = writerType.getConstructor(String.class).newInstance("hello");
        writer.getCache("greetings").put("g", hello);

        Object read = reader.getCache("greetings").get("g");
        assertThat(read.getClass().getName()).isEqualTo(Greeting.class.getName());
        assertThat(read.getClass().getClassLoader()).isSameAs(readerLoader);
        assertThat(read.toString()).isEqualTo("Greeting[text=hello]");
    }

    @Test
    void listenersHearWhatAnotherManagerWrites() {
        List<Object> created = new CopyOnWriteArrayList<>();
        Recorder.sink = created;
        CacheManager listening = provider.getCacheManager(URI_OF("listening"), getClass().getClassLoader());
        Cache<String, String> cache = listening.createCache("events", new MutableConfiguration<String, String>()
                .addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration<>(
                        FactoryBuilder.factoryOf(Recorder.class), null, false, false)));
        CacheManager writing = provider.getCacheManager(URI_OF("writing"), getClass().getClassLoader());
        writing.createCache("events", new MutableConfiguration<String, String>()).put("k", "v");
        await().atMost(Duration.ofSeconds(20)).until(() -> created.contains("k=v"));
        cache.put("k2", "v2");
        await().atMost(Duration.ofSeconds(20)).until(() -> created.contains("k2=v2"));
    }

    @Test
    void statisticsOfDeclaredCachesAreInJmx() throws Exception {
        CacheManager manager = provider.getCacheManager();
        Cache<Object, Object> products = manager.getCache("products");
        products.put("s1", "x");
        products.get("s1");
        products.get("missing");
        var server = ManagementFactory.getPlatformMBeanServer();
        Set<ObjectName> names = server.queryNames(new ObjectName("javax.cache:type=CacheStatistics,Cache=products,*"), null);
        assertThat(names).isNotEmpty().allSatisfy(name -> assertThat(name.getKeyProperty("CacheManager"))
                .startsWith(SharedCachingProvider.MBEAN_MANAGER_PREFIX));
        long hits = 0;
        long misses = 0;
        for (ObjectName name : names) {
            hits += (Long) server.getAttribute(name, "CacheHits");
            misses += (Long) server.getAttribute(name, "CacheMisses");
        }
        assertThat(hits).isGreaterThanOrEqualTo(1);
        assertThat(misses).isGreaterThanOrEqualTo(1);
    }

    @Test
    void aRedissonConfigurationThatCouldStartASecondClientIsRefused() {
        assertThatThrownBy(() -> provider.getCacheManager().createCache("own-client",
                RedissonConfiguration.fromConfig(new Config())))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one shared client");
    }

    @Test
    void closingAManagerKeepsTheDataAndTheClient() {
        CacheManager first = provider.getCacheManager(URI_OF("closing"), getClass().getClassLoader());
        first.getCache("products").put("kept", "yes");
        first.close();
        assertThat(first.isClosed()).isTrue();
        assertThat(backend.ping()).isTrue();
        CacheManager again = provider.getCacheManager(URI_OF("closing"), getClass().getClassLoader());
        assertThat(again).isNotSameAs(first);
        assertThat(again.getCache("products").get("kept")).isEqualTo("yes");
    }

    /**
     * JSR-107: one manager per (URI, class loader) until it is closed, then a new one. The same through the
     * library facade Liberty loads (sessionCache-1.0), which hands out its own managers.
     */
    @Test
    void eachProviderGivesOneManagerPerUriAndClassLoaderUntilItIsClosed() {
        throughTheAdapterAndTheFacade(through -> {
            ClassLoader loader = isolatedLoader();
            CacheManager first = through.getCacheManager(URI_OF("one-per-key"), loader);
            assertThat(through.getCacheManager(URI_OF("one-per-key"), loader)).as("%s", through).isSameAs(first);
            assertThat(through.getCacheManager(URI_OF("one-per-key"), loader, new java.util.Properties()))
                    .isSameAs(first);
            assertThat(through.getCacheManager(URI_OF("other-uri"), loader)).isNotSameAs(first);
            assertThat(through.getCacheManager(URI_OF("one-per-key"), isolatedLoader())).isNotSameAs(first);

            first.close();
            CacheManager next = through.getCacheManager(URI_OF("one-per-key"), loader);
            assertThat(next).as("a closed manager is replaced").isNotSameAs(first);
            assertThat(next.isClosed()).isFalse();
            assertThat(through.getCacheManager(URI_OF("one-per-key"), loader)).isSameAs(next);
            // Closed through one of its caches (Redisson's own manager, in the adapter's provider): the same.
            next.getCache("products").getCacheManager().close();
            assertThat(next.isClosed()).isTrue();
            CacheManager third = through.getCacheManager(URI_OF("one-per-key"), loader);
            assertThat(third).isNotSameAs(next);
            assertThat(third.isClosed()).isFalse();
            through.close(loader);
            assertThat(third.isClosed()).isTrue();
        });
    }

    /**
     * A closed manager is forgotten, and so is its class loader: an application that closes its manager and
     * is then undeployed leaves nothing of itself in the adapter (its classes can be unloaded).
     */
    @Test
    void aClosedManagerIsForgottenWithItsClassLoader() {
        throughTheAdapterAndTheFacade(through -> {
            for (boolean throughACache : List.of(false, true)) {
                WeakReference<ClassLoader> loader = usedAndClosed(through, throughACache);
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                        .alias("the class loader of a manager of " + through + " closed"
                                + (throughACache ? " through its cache" : "") + " is collected")
                        .until(() -> {
                            System.gc();
                            return loader.get() == null;
                        });
            }
        });
    }

    /** Runs {@code check} on the adapter's provider, then on the library facade in front of it. */
    private static void throughTheAdapterAndTheFacade(
            final Consumer<CachingProvider> check) {
        io.compozy.cache.provider.SharedProvider.register(provider);
        CachingProvider facade = new io.compozy.cache.provider.CompozyCachingProvider();
        try {
            check.accept(provider);
            check.accept(facade);
        } finally {
            facade.close();
            io.compozy.cache.provider.SharedProvider.unregister(provider);
        }
    }

    /** An application's manager that wrote and read one of its own objects, then closed, itself or through its cache. */
    private static WeakReference<ClassLoader> usedAndClosed(final CachingProvider through,
                                                                          final boolean throughACache) {
        ClassLoader loader = isolatedLoader();
        CacheManager manager = through.getCacheManager(URI_OF("forgotten"), loader);
        Cache<Object, Object> products = manager.getCache("products");
        try {
            products.put("forgotten", loader.loadClass(Greeting.class.getName()).getConstructor(String.class)
                    .newInstance("bye"));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        assertThat(products.get("forgotten").getClass().getClassLoader()).isSameAs(loader);
        (throughACache ? products.getCacheManager() : manager).close();
        return new WeakReference<>(loader);
    }

    /**
     * Liberty's session store through the library facade: after the adapter restarts (a new provider on
     * the client), the cache Liberty holds reaches the new one, with the same entries.
     */
    @Test
    void theLibraryFacadeFollowsTheAdapterAcrossARestart() {
        SharedCachingProvider before = new SharedCachingProvider(backend.client(), new JCacheSettings(List.of()));
        io.compozy.cache.provider.SharedProvider.register(before);
        CachingProvider facade = new io.compozy.cache.provider.CompozyCachingProvider();
        CacheManager liberty = facade.getCacheManager(null, null, new java.util.Properties());
        Cache<String, byte[]> sessions = liberty.createCache("facade-sessions",
                new MutableConfiguration<String, byte[]>().setTypes(String.class, byte[].class));
        sessions.put("s1", new byte[] {1, 2, 3});

        io.compozy.cache.provider.SharedProvider.unregister(before);
        before.close();
        SharedCachingProvider after = new SharedCachingProvider(backend.client(), new JCacheSettings(List.of()));
        io.compozy.cache.provider.SharedProvider.register(after);
        try {
            assertThat(sessions.get("s1")).containsExactly(1, 2, 3);
            assertThat(liberty.getCache("facade-sessions", String.class, byte[].class).get("s1")).containsExactly(1, 2, 3);
            assertThat(sessions.getCacheManager()).isSameAs(liberty);
        } finally {
            facade.close();
            io.compozy.cache.provider.SharedProvider.unregister(after);
            after.close();
        }
    }

    /**
     * At a server stop Liberty passivates sessions after the adapter has gone: a session cache call must fail
     * at once then, not wait for a start that never comes (a stop hung on exactly that wait).
     */
    @Test
    void onceTheAdapterHasStoppedTheFacadeFailsAtOnceInsteadOfWaitingForIt() {
        SharedCachingProvider running = new SharedCachingProvider(backend.client(), new JCacheSettings(List.of()));
        io.compozy.cache.provider.SharedProvider.register(running);
        CachingProvider facade = new io.compozy.cache.provider.CompozyCachingProvider();
        CacheManager liberty = facade.getCacheManager(null, null, new java.util.Properties());
        Cache<String, byte[]> sessions = liberty.createCache("facade-stop",
                new MutableConfiguration<String, byte[]>().setTypes(String.class, byte[].class));
        io.compozy.cache.provider.SharedProvider.unregister(running);
        running.close();
        try {
            long begin = System.nanoTime();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> sessions.get("s1"))
                    .isInstanceOf(javax.cache.CacheException.class).hasMessageContaining("has stopped");
            // Far below the 120 s a first start may take: the call did not wait for a start.
            assertThat(java.time.Duration.ofNanos(System.nanoTime() - begin)).isLessThan(java.time.Duration.ofSeconds(60));
        } finally {
            facade.close();
        }
    }

    /** An adapter whose start failed: Liberty's session stores get the reason at once instead of waiting 120 s each. */
    @Test
    void whenTheAdapterDidNotStartTheFacadeFailsAtOnceWithTheReason() {
        io.compozy.cache.provider.SharedProvider.failed("Invalid configuration 'redis.addr': not a Redis address");
        CachingProvider facade = new io.compozy.cache.provider.CompozyCachingProvider();
        long begin = System.nanoTime();
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> facade.getCacheManager(null, null, new java.util.Properties()))
                .isInstanceOf(javax.cache.CacheException.class).hasMessageContaining("did not start")
                .hasMessageContaining("'redis.addr'");
        assertThat(java.time.Duration.ofNanos(System.nanoTime() - begin)).isLessThan(java.time.Duration.ofSeconds(60));
        SharedCachingProvider running = new SharedCachingProvider(backend.client(), new JCacheSettings(List.of()));
        io.compozy.cache.provider.SharedProvider.register(running); // a later successful start clears it
        try {
            assertThat(facade.getCacheManager(null, null, new java.util.Properties())).isNotNull();
        } finally {
            facade.close();
            io.compozy.cache.provider.SharedProvider.unregister(running);
            running.close();
        }
    }

    @Test
    void aValueOfAClassOutsideTheAllowListIsRefusedOnGetAndNeverInstantiated() throws Exception {
        CacheManager manager = provider.getCacheManager(URI_OF("allow-list"), isolatedLoader());
        Cache<Object, Object> cache = manager.createCache("allow-list", new MutableConfiguration<>());
        cache.put("planted", "an ordinary value, replaced below as another client of the Redis could");
        // Serialized in a class loader of its own (initializing that copy), then written over the entry's
        // value with a plain byte-array client.
        Object gadget = isolatedLoader().loadClass(Tripwire.class.getName()).getConstructor().newInstance();
        var bytes = new java.io.ByteArrayOutputStream();
        try (var out = new java.io.ObjectOutputStream(bytes)) {
            out.writeObject(gadget);
        }
        org.redisson.api.RMap<byte[], byte[]> raw = backend.client().getMap("allow-list",
                org.redisson.client.codec.ByteArrayCodec.INSTANCE);
        assertThat(raw.readAllKeySet()).hasSize(1);
        raw.put(raw.readAllKeySet().iterator().next(), bytes.toByteArray());
        int marks = Tripwire.marks();
        long refusedBefore = provider.allowList().getRejectedCount();

        assertThatThrownBy(() -> cache.get("planted"))
                .hasStackTraceContaining("JCache refused to deserialize a value of class " + Tripwire.class.getName())
                .hasStackTraceContaining(JCacheSettings.ALLOWED_CLASSES);

        assertThat(Tripwire.marks()).as("neither initialized nor read").isEqualTo(marks);
        assertThat(provider.allowList().getRejectedCount()).isEqualTo(refusedBefore + 1);
        assertThat(provider.allowList().getLastRejectedClass()).isEqualTo(Tripwire.class.getName());
        cache.put("after", "the client still works");
        assertThat(cache.get("after")).isEqualTo("the client still works");
    }

    @Test
    void theJdksValueTypesAndTheAllowedApplicationClassesRoundTrip() throws Exception {
        ClassLoader loader = isolatedLoader();
        Cache<Object, Object> cache = provider.getCacheManager(URI_OF("values"), loader)
                .createCache("values", new MutableConfiguration<>());
        Object greeting = loader.loadClass(Greeting.class.getName()).getConstructor(String.class).newInstance("hi");
        Map<String, Object> values = new java.util.LinkedHashMap<>();
        values.put("string", "text");
        values.put("long", 42L);
        values.put("bytes", new byte[] {1, 2, 3});
        values.put("list", new java.util.ArrayList<>(List.of(1, "two", 3.0)));
        values.put("map", new java.util.HashMap<>(Map.of("k", java.util.UUID.randomUUID())));
        values.put("set", new java.util.TreeSet<>(Set.of("a", "b")));
        values.put("immutable", List.of("x", "y"));
        values.put("instant", java.time.Instant.parse("2026-12-07T20:00:00Z"));
        values.put("decimal", new java.math.BigDecimal("12.50"));
        values.put("uri", java.net.URI.create("https://example.com/a"));
        values.put("concurrent", new java.util.concurrent.ConcurrentHashMap<>(Map.of("n", 1)));
        values.put("greeting", greeting);
        values.forEach(cache::put);

        values.forEach((key, value) -> assertThat(cache.get(key)).as(key).isEqualTo(value));
        assertThat(cache.get("greeting").getClass().getClassLoader()).isSameAs(loader);
    }

    private static java.net.URI URI_OF(final String name) {
        return java.net.URI.create("compozy-cache:test-" + name);
    }

    /** Like an application's class loader: sees the test's classes but not the adapter's loader's copies. */
    private static ClassLoader isolatedLoader() {
        URL classes = Greeting.class.getProtectionDomain().getCodeSource().getLocation();
        return new URLClassLoader(new URL[] {classes}, null);
    }

    /** Records created entries as key=value. */
    public static final class Recorder implements CacheEntryCreatedListener<String, String>, java.io.Serializable {
        static volatile List<Object> sink;

        @Override
        public void onCreated(final Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
            events.forEach(event -> sink.add(event.getKey() + "=" + event.getValue()));
        }
    }
}
