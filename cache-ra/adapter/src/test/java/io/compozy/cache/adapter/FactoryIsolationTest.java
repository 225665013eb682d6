package io.compozy.cache.adapter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ConfigLookup;
import io.compozy.cache.config.JCacheSettings;
import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import io.compozy.cache.jcache.SharedCachingProvider;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import javax.cache.Cache;
import javax.cache.configuration.MutableConfiguration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.redisson.Redisson;
import org.redisson.api.RLock;
import org.redisson.api.RMapCache;
import org.redisson.api.RScript;
import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.redisson.client.protocol.RedisCommands;
import org.redisson.command.CommandAsyncExecutor;

/**
 * Connection factories on a real redis-server with real ACL users: each application reaches its own keys and
 * channels and runs no administrative command, in standalone mode (users the adapter creates) and distributed
 * mode (a user the operator created).
 */
class FactoryIsolationTest {

    private static final Executor PUMP = task -> {
        Thread thread = new Thread(task, "test-redis-output");
        thread.setDaemon(true);
        thread.start();
    };

    @TempDir
    Path root;

    private CacheBackend backend;
    private EmbeddedRedisServer external;
    private final List<LogRecord> logged = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(final LogRecord record) {
            logged.add(record);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void captureLogs() {
        Logger.getLogger("io.compozy").addHandler(capture);
    }

    @AfterEach
    void close() {
        Logger.getLogger("io.compozy").removeHandler(capture);
        if (backend != null) {
            backend.close();
        }
        if (external != null) {
            external.close();
        }
    }

    @Test
    void standaloneFactoriesReachOnlyTheirOwnKeysAndNoAdministrativeCommand() {
        backend = CacheBackend.start(standalone(), PUMP);
        RedissonClient a = backend.clientFor(prefixed("appA:")).client();
        RedissonClient b = backend.clientFor(prefixed("appB:")).client();

        a.getBucket("greeting", StringCodec.INSTANCE).set("from A");
        b.getBucket("greeting", StringCodec.INSTANCE).set("from B");
        // The application writes its own names; Redis holds them under the factory's prefix.
        assertThat(backend.client().getBucket("appA:greeting", StringCodec.INSTANCE).get()).isEqualTo("from A");
        assertThat(a.getBucket("greeting", StringCodec.INSTANCE).get()).isEqualTo("from A");
        assertThat(b.getBucket("greeting", StringCodec.INSTANCE).get()).isEqualTo("from B");
        backend.client().getBucket("store:secret", StringCodec.INSTANCE).set("the EAR's");

        // Below the name mapper, on the wire: B asks for A's key and the product's own, and Redis refuses.
        assertRefused(() -> raw(b, RedisCommands.GET, "appA:greeting"));
        assertRefused(() -> raw(b, RedisCommands.GET, "store:secret"));
        assertRefused(() -> raw(b, RedisCommands.SET, "store:secret", "overwritten"));
        assertRefused(() -> raw(a, RedisCommands.CONFIG_GET, "requirepass"));
        assertRefused(() -> b.getKeys().flushall());
        assertRefused(() -> b.getKeys().flushdb());
        assertThat(backend.client().getBucket("store:secret", StringCodec.INSTANCE).get()).isEqualTo("the EAR's");
        // A script gets its keys mapped like any name, and runs with the caller's ACL: outside the prefix Redis refuses it.
        assertThat(a.getScript(StringCodec.INSTANCE).<Object>eval(RScript.Mode.READ_WRITE,
                "return redis.call('GET', KEYS[1])", RScript.ReturnType.VALUE, List.of("greeting")))
                .isEqualTo("from A");
        assertThatThrownBy(() -> b.getScript(StringCodec.INSTANCE).eval(RScript.Mode.READ_ONLY,
                "return redis.call('GET', 'appA:greeting')", RScript.ReturnType.VALUE, List.of()))
                .hasMessageContaining("can't access");

        assertThat(backend.info().embedded()).isTrue();
        assertThat(warnings()).noneMatch(line -> line.contains("not walled in"));
        assertNoGeneratedPasswordWasLogged();
    }

    /** Redis shows each user's password as its SHA-256 only: no word of any log line may hash to one of them. */
    private void assertNoGeneratedPasswordWasLogged() {
        List<String> users = raw(backend.client(), new org.redisson.client.protocol.RedisCommand<List<String>>("ACL",
                "LIST", new org.redisson.client.protocol.decoder.StringListReplayDecoder()));
        List<String> hashes = users.stream().filter(line -> line.startsWith("user compozy-app"))
                .flatMap(line -> java.util.Arrays.stream(line.split(" "))).filter(word -> word.startsWith("#"))
                .map(word -> word.substring(1)).toList();
        assertThat(hashes).isNotEmpty();
        List<String> words = logged.stream().map(r -> String.valueOf(r.getMessage()) + " " + r.getThrown())
                .flatMap(line -> java.util.Arrays.stream(line.split("[\\s,;:()=>\\[\\]'\"]+"))).toList();
        assertThat(words).isNotEmpty().noneMatch(word -> hashes.contains(sha256(word)));
    }

    private static String sha256(final String word) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(word.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aPrefixedFactoryUsesLocksMapCachesTopicsAndJCacheInsideItsPrefix() throws Exception {
        backend = CacheBackend.start(standalone(), PUMP);
        FactoryClient factory = backend.clientFor(prefixed("appA:"));
        RedissonClient a = factory.client();

        RLock lock = a.getLock("orders-lock");
        assertThat(lock.tryLock(5, 10, TimeUnit.SECONDS)).isTrue();
        lock.unlock();
        RMapCache<String, String> sessions = a.getMapCache("sessions", StringCodec.INSTANCE);
        sessions.put("s1", "alive", 1, TimeUnit.MINUTES);
        assertThat(sessions.get("s1")).isEqualTo("alive");
        List<String> heard = new CopyOnWriteArrayList<>();
        RTopic topic = a.getTopic("events", StringCodec.INSTANCE);
        topic.addListener(String.class, (channel, message) -> heard.add(message));
        topic.publish("hello");
        await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains("hello"));

        SharedCachingProvider jcache = new SharedCachingProvider(factory.client(), JCacheSettings.load(ConfigLookup.of(Map.of())));
        try {
            Cache<String, String> prices = jcache.managerFor(getClass().getClassLoader())
                    .createCache("prices", new MutableConfiguration<String, String>());
            prices.put("tea", "3");
            assertThat(prices.get("tea")).isEqualTo("3");
        } finally {
            jcache.close();
        }
        assertThat(backend.client().getKeys().getKeysStream().filter(key -> key.contains("prices")))
                .isNotEmpty().allMatch(key -> key.startsWith("appA:") || key.contains(":{appA:"));
    }

    @Test
    void factoriesShareTheAdaptersEventLoopsAndThreadPool() {
        backend = CacheBackend.start(standalone(), PUMP);
        backend.client().getBucket("warm", StringCodec.INSTANCE).set("x");
        Set<String> before = threadNames();
        Redisson adapter = (Redisson) backend.client();
        for (String prefix : List.of("t1:", "t2:", "t3:")) {
            Redisson factory = (Redisson) backend.clientFor(prefixed(prefix)).client();
            factory.getBucket("last", StringCodec.INSTANCE).set("v");
            assertThat(factory.getServiceManager().getGroup()).isSameAs(adapter.getServiceManager().getGroup());
            assertThat(factory.getServiceManager().getExecutor()).isSameAs(adapter.getServiceManager().getExecutor());
        }
        // On the threads: the adapter's I/O pool ("redisson-netty-<pool>-<n>") runs its connections already, and
        // no new I/O pool appears; each factory adds Redisson's timer, which its Config cannot share.
        java.util.Set<String> added = new java.util.TreeSet<>(threadNames());
        added.removeAll(before);
        Set<String> poolsBefore = before.stream().map(FactoryIsolationTest::pool).collect(java.util.stream.Collectors.toSet());
        assertThat(added.stream().filter(name -> name.startsWith("redisson-netty")))
                .allMatch(name -> poolsBefore.contains(pool(name)));
        assertThat(added.stream().filter(name -> name.startsWith("redisson-timer"))).hasSize(3);
    }

    /** "redisson-netty-5-2" belongs to the pool "redisson-netty-5", "redisson-217-4" to "redisson-217". */
    private static String pool(final String thread) {
        int last = thread.lastIndexOf('-');
        return last < 0 ? thread : thread.substring(0, last);
    }

    private static Set<String> threadNames() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                .collect(java.util.stream.Collectors.toSet());
    }

    @Test
    void theShippedFactoryKeepsEveryKeyButNoAdministrativeCommand() {
        backend = CacheBackend.start(standalone(), PUMP);
        backend.client().getBucket("existing", StringCodec.INSTANCE).set("written before factories");
        RedissonClient ordinary = backend.clientFor(FactoryAccess.ORDINARY).client();

        assertThat(ordinary.getBucket("existing", StringCodec.INSTANCE).get()).isEqualTo("written before factories");
        assertThat(ordinary).isNotSameAs(backend.client());
        assertRefused(() -> ordinary.getKeys().flushall());
        assertRefused(() -> raw(ordinary, RedisCommands.CONFIG_GET, "requirepass"));
        assertRefused(() -> raw(ordinary, RedisCommands.KEYS, "*"));
        // The administrator's factory is the adapter's own client.
        assertThat(backend.clientFor(new FactoryAccess(Optional.empty(), Optional.empty(), Optional.empty(), true,
                Set.of("compozy-cache"))).client()).isSameAs(backend.client());
    }

    @Test
    void aFactoryUserComesBackWithARestartedServer() {
        backend = CacheBackend.start(standalone(), PUMP);
        RedissonClient a = backend.clientFor(prefixed("appA:")).client();
        a.getBucket("before", StringCodec.INSTANCE).set("x");

        ProcessHandle.of(backend.info().processId()).orElseThrow().destroyForcibly();

        await().atMost(Duration.ofSeconds(30)).until(() -> backend.info().embeddedRestarts() == 1);
        // Redis keeps users in memory only: the owner gives them to the new server, and the client logs in again.
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() -> {
            a.getBucket("after", StringCodec.INSTANCE).set("y");
            assertThat(a.getBucket("after", StringCodec.INSTANCE).get()).isEqualTo("y");
        });
        assertRefused(() -> raw(a, RedisCommands.GET, "outside"));
    }

    @Test
    void distributedFactoriesLogInAsTheOperatorsUserAndAWideLoginIsWarnedAbout() throws Exception {
        external = EmbeddedRedisServer.start(CacheSettings.load(ConfigLookup.of(Map.of("redis.mode", "standalone",
                CacheSettings.WORK_DIR, root.resolve("external").toString()))).standalone(), PUMP);
        backend = CacheBackend.start(CacheSettings.load(ConfigLookup.of(Map.of("redis.mode", "distributed",
                CacheSettings.ADDR, "redis://127.0.0.1:" + external.port() + "/0",
                CacheSettings.PASSWORD, external.password().reveal()))), PUMP);
        // What docs/security.md tells the operator to run for each factory, with a password of this run.
        String secret = "orders-" + java.util.UUID.randomUUID();
        raw(backend.client(), new org.redisson.client.protocol.RedisStrictCommand<Void>("ACL", "SETUSER",
                new org.redisson.client.protocol.convertor.VoidReplayConvertor()),
                "orders-app", "on", ">" + secret, "~orders:*", "&orders:*", "~{orders:*", "&{orders:*",
                "~*:{orders:*", "&*:{orders:*", "+@all", "-@admin", "-@dangerous");
        FactoryAccess orders = FactoryAccess.of("orders:", "orders-app", secret, false, null);

        RedissonClient app = backend.clientFor(orders).client();
        app.getBucket("total", StringCodec.INSTANCE).set("12");
        assertThat(backend.client().getBucket("orders:total", StringCodec.INSTANCE).get()).isEqualTo("12");
        assertRefused(() -> raw(app, RedisCommands.GET, "billing:total"));
        assertRefused(() -> app.getKeys().flushall());
        assertThat(warnings()).noneMatch(line -> line.contains("not walled in"));

        // The shipped factory without a user of its own logs in as the adapter: Redis lets it do everything.
        assertThat(backend.clientFor(FactoryAccess.ORDINARY).client()).isSameAs(backend.client());
        assertThat(warnings()).anyMatch(line -> line.contains("not walled in")
                && line.contains("administrative commands"));
        assertThat(logged).noneMatch(r -> String.valueOf(r.getMessage()).contains(secret));

        assertThatThrownBy(() -> backend.clientFor(FactoryAccess.of("billing:", "billing-app", "wrong", false, null)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("billing-app")
                .hasMessageNotContaining("wrong");
    }

    @Test
    void badFactoryPropertiesAreRefusedNamingTheProperty() {
        assertThatThrownBy(() -> FactoryAccess.of("app*", null, null, false, null))
                .hasMessageContaining(FactoryAccess.KEY_PREFIX);
        assertThatThrownBy(() -> FactoryAccess.of(null, null, "secret", false, null))
                .hasMessageContaining(FactoryAccess.REDIS_PASSWORD).hasMessageNotContaining("secret'");
        assertThatThrownBy(() -> FactoryAccess.of("a:", null, null, true, null))
                .hasMessageContaining(FactoryAccess.ADMINISTRATOR);
        assertThatThrownBy(() -> FactoryAccess.of(null, "bad user", null, false, null))
                .hasMessageContaining(FactoryAccess.REDIS_USER);
    }

    private CacheSettings standalone() {
        return CacheSettings.load(ConfigLookup.of(Map.of("redis.mode", "standalone",
                CacheSettings.WORK_DIR, root.resolve("work").toString(),
                PersistenceSettings.ENABLED, "false")));
    }

    private static FactoryAccess prefixed(final String prefix) {
        return FactoryAccess.of(prefix, null, null, false, null);
    }

    /** One command as the client sends it, past its name mapper. */
    private static <T> T raw(final RedissonClient client, final org.redisson.client.protocol.RedisCommand<T> command,
                             final Object... params) {
        CommandAsyncExecutor executor = ((Redisson) client).getCommandExecutor();
        String key = params.length > 0 ? String.valueOf(params[0]) : "probe";
        return executor.get(executor.writeAsync(key, StringCodec.INSTANCE, command, params));
    }

    private static void assertRefused(final Runnable call) {
        assertThatThrownBy(call::run).hasMessageContaining("NOPERM");
    }

    private List<String> warnings() {
        return logged.stream().filter(r -> r.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue())
                .map(r -> String.valueOf(r.getMessage())).toList();
    }
}
