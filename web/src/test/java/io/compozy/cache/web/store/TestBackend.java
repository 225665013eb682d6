package io.compozy.cache.web.store;

import io.compozy.cache.config.ConfigLookup;
import io.compozy.cache.config.RedisAddress;
import io.compozy.cache.config.TlsSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import io.compozy.cache.testing.TestRedis;
import io.compozy.cache.testing.TlsTestServers;
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
        Config config = new Config().setCodec(StringCodec.INSTANCE);
        SingleServerConfig server = config.useSingleServer();
        configure(server);
        if (clientName != null) {
            server.setClientName(clientName);
        }
        return Redisson.create(config);
    }

    protected abstract void configure(SingleServerConfig server);

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
