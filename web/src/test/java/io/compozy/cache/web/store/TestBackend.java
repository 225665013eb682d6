package io.compozy.cache.web.store;

import io.compozy.cache.adapter.RedissonConfigs;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ConfigLookup;
import io.compozy.cache.config.RedisAddress;
import io.compozy.cache.config.TlsSettings;
import io.compozy.cache.config.TopologySettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import io.compozy.cache.testing.TestRedis;
import io.compozy.cache.testing.TestTopologies;
import io.compozy.cache.testing.TlsTestServers;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.extension.ExtensionContext;
import java.util.List;
import java.util.Map;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.api.options.KeysScanOptions;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.Config;
import org.redisson.config.SingleServerConfig;

/**
 * One of the two real backends of the contract suite: the client every store uses, and a way to open
 * a second client (for example to kill its connections on purpose).
 */
public abstract class TestBackend implements ExtensionContext.Store.CloseableResource, AutoCloseable {

    private RedissonClient client;

    /** The shared client, as the adapter would hand it out (StringCodec by default). */
    public synchronized RedissonClient client() {
        if (client == null) {
            client = newClient(null);
        }
        return client;
    }

    /** A new client of its own; the caller shuts it down. {@code clientName} may be null. */
    public RedissonClient newClient(final String clientName) {
        Config config = config();
        if (clientName != null) {
            (config.isClusterConfig() ? config.useClusterServers()
                    : config.isSentinelConfig() ? config.useSentinelServers() : config.useSingleServer())
                    .setClientName(clientName);
        }
        return Redisson.create(config);
    }

    /** The client configuration for this backend, String codec by default. */
    protected Config config() {
        Config config = new Config().setCodec(StringCodec.INSTANCE);
        configure(config.useSingleServer());
        return config;
    }

    /** A single-node backend's address and credentials. */
    protected void configure(final SingleServerConfig server) {
        throw new UnsupportedOperationException("not a single-node backend: override config()");
    }

    /** Deletes the keys a test wrote: every key containing its namespace (never FLUSHDB on a shared server). */
    public static void deleteKeysContaining(final RedissonClient redis, final String namespace) {
        List<String> keys;
        try (var stream = redis.getKeys().getKeysStream(KeysScanOptions.defaults().pattern("*" + namespace + "*"))) {
            keys = stream.toList();
        }
        if (!keys.isEmpty()) {
            redis.getKeys().delete(keys.toArray(String[]::new));
        }
    }

    @Override
    public synchronized void close() {
        if (client != null) {
            client.shutdown();
            client = null;
        }
    }

    /** The adapter's embedded redis-server, started for this test run and stopped after it. */
    static final class Embedded extends TestBackend {

        private final EmbeddedRedisServer server = TestRedis.startEmbedded();

        @Override
        protected void configure(final SingleServerConfig config) {
            config.setAddress("redis://" + server.host() + ":" + server.port())
                    .setPassword(server.password().reveal());
        }

        @Override
        public synchronized void close() {
            super.close();
            server.close();
        }

        @Override
        public String toString() {
            return "embedded redis-server";
        }
    }

    /**
     * A Redis Cluster (3 masters, 3 replicas) or a Sentinel group: REDIS_CLUSTER_NODES / REDIS_SENTINEL_NODES,
     * else the ones the harness starts once for this JVM. The client is configured exactly as the adapter
     * configures it (RedissonConfigs), from the configuration keys an operator would set.
     */
    static final class Topology extends TestBackend {

        private final String name;
        private final Map<String, String> keys;

        private Topology(final String name, final Map<String, String> keys) {
            this.name = name;
            this.keys = keys;
        }

        static Topology cluster() {
            TestTopologies.Cluster cluster = TestTopologies.cluster();
            Map<String, String> keys = new HashMap<>(Map.of("redis.mode", "distributed",
                    TopologySettings.CLUSTER_NODES, cluster.nodeList()));
            cluster.password().ifPresent(p -> keys.put(CacheSettings.PASSWORD, p));
            return new Topology("Redis Cluster", keys);
        }

        static Topology sentinel() {
            TestTopologies.Sentinel sentinel = TestTopologies.sentinel();
            Map<String, String> keys = new HashMap<>(Map.of("redis.mode", "distributed",
                    TopologySettings.SENTINEL_NODES, sentinel.sentinelList(),
                    TopologySettings.SENTINEL_MASTER, sentinel.masterName()));
            sentinel.password().ifPresent(p -> keys.put(CacheSettings.PASSWORD, p));
            sentinel.sentinelPassword().ifPresent(p -> keys.put(TopologySettings.SENTINEL_PASSWORD, p));
            return new Topology("Redis Sentinel", keys);
        }

        @Override
        protected Config config() {
            return RedissonConfigs.distributed(CacheSettings.load(ConfigLookup.of(keys)));
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /**
     * A Redis that speaks TLS only and requires a client certificate, signed by a CA made for this run;
     * the client is configured by the adapter's own {@link TlsSettings}, as distributed mode configures it.
     */
    static final class Tls extends TestBackend {

        private final TlsTestServers servers = TlsTestServers.start();
        private final TlsSettings tls = TlsSettings.load(ConfigLookup.of(Map.of(
                TlsSettings.CA_FILE, servers.pki().caFile().toString(),
                TlsSettings.CERT_FILE, servers.pki().clientCert().toString(),
                TlsSettings.KEY_FILE, servers.pki().clientKey().toString())));

        @Override
        protected void configure(final SingleServerConfig config) {
            config.setAddress(servers.mutual().address(0)).setPassword(servers.mutual().password());
            tls.configure(config);
        }

        @Override
        public synchronized void close() {
            super.close();
            servers.close();
        }

        @Override
        public String toString() {
            return "Redis over TLS";
        }
    }

    /** The external Redis: REDIS_URL, else a server the harness runs for this JVM. */
    static final class External extends TestBackend {

        private final RedisAddress address = TestRedis.external();

        @Override
        protected void configure(final SingleServerConfig config) {
            config.setAddress(address.redissonUri()).setDatabase(address.database());
            address.username().ifPresent(config::setUsername);
            address.password().ifPresent(p -> config.setPassword(p.reveal()));
        }

        @Override
        public String toString() {
            return "external Redis";
        }
    }
}
