package io.compozy.cache.web.store;

import io.compozy.cache.adapter.RedissonConfigs;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ConfigLookup;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import io.compozy.cache.testing.FaultProxy;
import io.compozy.cache.testing.TestRedis;
import java.util.Map;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;

/**
 * An embedded redis-server with a {@link FaultProxy} in front of it: {@link #client()} is configured exactly as
 * the adapter configures its one client (RedissonConfigs: timeouts, retries) and connects through the proxy,
 * so a test can lose its replies on purpose; {@link #direct()} connects straight to the server, to see what
 * Redis really holds whatever the proxy does.
 */
public final class ProxiedRedis implements AutoCloseable {

    private final EmbeddedRedisServer server = TestRedis.startEmbedded();
    private final RedissonClient direct = TestRedis.clientFor(server);
    private FaultProxy proxy;
    private RedissonClient client;

    /** A new proxy and a new product-configured client through it (the previous ones are closed). */
    public synchronized void reconnect() {
        closeClient();
        proxy = FaultProxy.to(server.port());
        client = Redisson.create(RedissonConfigs.distributed(CacheSettings.load(ConfigLookup.of(Map.of(
                "redis.mode", "distributed",
                "redis.addr", "redis://:" + server.password().reveal() + "@127.0.0.1:" + proxy.port() + "/0")))));
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
    public void close() {
        closeClient();
        direct.shutdown();
        server.close();
    }
}
