package io.compozy.cache.testing;

import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ConfigLookup;
import io.compozy.cache.config.RedisAddress;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.Config;

/**
 * The two real backends the suites run against.
 *
 * <ul>
 *   <li>{@link #external()}: the Redis that {@code REDIS_URL} names (CI points it at the machine's
 *       Redis with a database index of its own); when unset, a redis-server process this harness
 *       starts once per JVM on a free loopback port and stops by PID at exit.</li>
 *   <li>{@link #startEmbedded()}: the adapter's own embedded redis-server, exactly as standalone
 *       mode runs it.</li>
 * </ul>
 * Tests share these servers with other work: they use keys of their own and never FLUSHALL/FLUSHDB.
 */
public final class TestRedis {

    public static final String REDIS_URL = "REDIS_URL";

    private static RedisAddress external;

    private TestRedis() {
    }

    /** The external Redis for distributed-mode tests (started on first use when REDIS_URL is unset). */
    public static synchronized RedisAddress external() {
        if (external == null) {
            String url = Optional.ofNullable(System.getenv(REDIS_URL)).filter(u -> !u.isBlank())
                    .orElseGet(TestRedis::startOwnExternal);
            external = RedisAddress.parse(REDIS_URL, url);
        }
        return external;
    }

    /** The external Redis as a URL with its credentials, for a server's redis.addr. */
    public static String externalUrl() {
        RedisAddress address = external();
        String credentials = address.password().map(p -> ":" + p.reveal() + "@").orElse("");
        return (address.tls() ? "rediss://" : "redis://") + credentials + address.host() + ":" + address.port()
                + "/" + address.database();
    }

    /** Starts an embedded redis-server as standalone mode does; the caller closes it. */
    public static EmbeddedRedisServer startEmbedded() {
        try {
            return EmbeddedRedisServer.start(standaloneSettings(), TestRedis::pump);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Starts a new redis-server on the address (port and password) of {@code dead}, which has exited,
     * as an operator restarts a Redis: empty, since these servers keep nothing on disk. The caller closes it.
     */
    public static EmbeddedRedisServer restartEmbedded(final EmbeddedRedisServer dead) {
        try {
            return EmbeddedRedisServer.startAgain(dead, standaloneSettings(), TestRedis::pump, Optional.empty());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static CacheSettings.Standalone standaloneSettings() throws IOException {
        Path workDir = Files.createTempDirectory("compozy-test-redis-");
        return CacheSettings.load(ConfigLookup.of(Map.of(
                "redis.mode", "standalone",
                CacheSettings.WORK_DIR, workDir.toString()))).standalone();
    }

    private static void pump(final Runnable task) {
        Thread thread = new Thread(task, "test-redis-output");
        thread.setDaemon(true);
        thread.start();
    }

    /** A client on the external Redis, with the String codec the adapter uses. */
    public static RedissonClient externalClient() {
        RedisAddress address = external();
        Config config = new Config().setCodec(StringCodec.INSTANCE);
        var single = config.useSingleServer().setAddress(address.redissonUri()).setDatabase(address.database());
        address.username().ifPresent(single::setUsername);
        address.password().ifPresent(p -> single.setPassword(p.reveal()));
        return Redisson.create(config);
    }

    /** A client on an embedded server, with the String codec the adapter uses. */
    public static RedissonClient clientFor(final EmbeddedRedisServer server) {
        Config config = new Config().setCodec(StringCodec.INSTANCE);
        config.useSingleServer().setAddress("redis://" + server.host() + ":" + server.port())
                .setPassword(server.password().reveal());
        return Redisson.create(config);
    }

    /** No REDIS_URL: run our own server for the whole JVM (it dies with the JVM, as in standalone mode). */
    private static String startOwnExternal() {
        EmbeddedRedisServer server = startEmbedded();
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "test-redis-stop"));
        return "redis://:" + server.password().reveal() + "@" + server.host() + ":" + server.port() + "/0";
    }
}
