package io.compozy.cache.web.store;

import io.compozy.cache.adapter.RedissonConfigs;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ConfigLookup;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import io.compozy.cache.testing.FaultProxy;
import io.compozy.cache.testing.TestRedis;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

/**
 * An embedded redis-server with a {@link FaultProxy} in front of it: {@link #client()} is configured exactly as
 * the adapter configures its one client (RedissonConfigs: timeouts, retries) and connects through the proxy,
 * so a test can lose its replies on purpose; {@link #direct()} connects straight to the server, to see what
 * Redis really holds whatever the proxy does. A test class registers one as a static extension
 * ({@code @RegisterExtension}); it is closed after the class.
 */
public final class ProxiedRedis implements AutoCloseable, AfterAllCallback {

    private final EmbeddedRedisServer server = TestRedis.startEmbedded();
    private final RedissonClient direct = TestRedis.clientFor(server);
    private FaultProxy proxy;
    private RedissonClient client;

    /** A new proxy and a new product-configured client through it (the previous ones are closed). */
    public synchronized void reconnect() {
        reconnect(Optional.empty());
    }

    /**
     * As {@link #reconnect()}, with a response timeout of {@code timeout} instead of the product's 3 s: for a
     * test that holds replies for as long as it needs (a loaded machine) without the client giving up.
     */
    public synchronized void reconnect(final Optional<Duration> timeout) {
        closeClient();
        proxy = FaultProxy.to(server.port());
        Config config = RedissonConfigs.distributed(CacheSettings.load(ConfigLookup.of(Map.of(
                "redis.mode", "distributed",
                "redis.addr", "redis://:" + server.password().reveal() + "@127.0.0.1:" + proxy.port() + "/0"))));
        timeout.ifPresent(t -> config.useSingleServer().setTimeout((int) t.toMillis()));
        client = Redisson.create(config);
    }

    public synchronized FaultProxy proxy() {
        return proxy;
    }

    /** The client as the adapter builds it, through the proxy. */
    public synchronized RedissonClient client() {
        return client;
    }

    /** A client straight to the server. */
    public RedissonClient direct() {
        return direct;
    }

    /** Closes the client and the proxy (every held reply is released first, so nothing waits on it). */
    public synchronized void closeClient() {
        if (proxy != null) {
            proxy.releaseReplies();
        }
        if (client != null) {
            client.shutdown();
            client = null;
        }
        if (proxy != null) {
            proxy.close();
            proxy = null;
        }
    }

    @Override
    public void afterAll(final ExtensionContext context) {
        close();
    }

    @Override
    public void close() {
        closeClient();
        direct.shutdown();
        server.close();
    }
}
