package io.compozy.cache.adapter;

import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.RedisAddress;
import io.compozy.cache.config.Secret;
import io.compozy.cache.config.TlsSettings;
import io.compozy.cache.config.TopologySettings;
import java.util.Optional;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.BaseConfig;
import org.redisson.config.Config;
import org.redisson.config.ReadMode;
import org.redisson.config.SubscriptionMode;

/**
 * The one place that builds the client's Redisson {@link Config}, for the embedded server and for each
 * distributed topology. Everything every topology shares (credentials, timeouts, retries, and TLS) is set
 * in {@link #common}, so a setting added there reaches one node, a Cluster and a Sentinel group alike.
 */
public final class RedissonConfigs {

    /** Topology changes (a failover, a moved slot) are looked for this often, in milliseconds. */
    static final int SCAN_INTERVAL_MS = 1_000;

    private RedissonConfigs() {
    }

    /** The embedded redis-server: one node on loopback, with the password generated at its start. */
    static Config embedded(final String uri, final Secret password, final int poolSize) {
        Config config = base();
        common(config.useSingleServer().setAddress(uri).setConnectionPoolSize(poolSize)
                .setConnectionMinimumIdleSize(minimumIdle(poolSize)).setSubscriptionConnectionMinimumIdleSize(1),
                Optional.empty(), Optional.of(password), Optional.empty());
        return config;
    }

    /** Four connections ready at start (the first requests do not wait for connects), fewer in a smaller pool. */
    private static int minimumIdle(final int poolSize) {
        return Math.min(4, poolSize);
    }

    /**
     * The external Redis of distributed mode, in the topology the settings name. Reads and subscriptions go
     * to masters: a workflow that writes its state and reads it back must see its own write, which a replica
     * (replicated asynchronously) does not promise.
     */
    public static Config distributed(final CacheSettings settings) {
        Config config = base();
        TopologySettings topology = settings.topology();
        // redis.tls.* (CA, client certificate) on every node of a rediss:// topology.
        Optional<TlsSettings> tls = Optional.of(settings.tls()).filter(t -> topology.tls());
        if (topology instanceof TopologySettings.Cluster cluster) {
            var servers = config.useClusterServers().setScanInterval(SCAN_INTERVAL_MS)
                    .setReadMode(ReadMode.MASTER).setSubscriptionMode(SubscriptionMode.MASTER)
                    .setMasterConnectionPoolSize(settings.connectionPoolSize())
                    .setMasterConnectionMinimumIdleSize(minimumIdle(settings.connectionPoolSize()))
                    .setSubscriptionConnectionMinimumIdleSize(1);
            cluster.seeds().stream().map(RedisAddress::redissonUri).forEach(servers::addNodeAddress);
            common(servers, settings.username(), settings.password(), tls);
        } else if (topology instanceof TopologySettings.Sentinel sentinel) {
            var servers = config.useSentinelServers().setMasterName(sentinel.master())
                    .setDatabase(sentinel.database()).setScanInterval(SCAN_INTERVAL_MS)
                    .setReadMode(ReadMode.MASTER).setSubscriptionMode(SubscriptionMode.MASTER)
                    .setMasterConnectionPoolSize(settings.connectionPoolSize())
                    .setMasterConnectionMinimumIdleSize(minimumIdle(settings.connectionPoolSize()))
                    .setSubscriptionConnectionMinimumIdleSize(1);
            sentinel.sentinels().stream().map(RedisAddress::redissonUri).forEach(servers::addSentinelAddress);
            sentinel.sentinelUsername().ifPresent(servers::setSentinelUsername);
            sentinel.sentinelPassword().map(Secret::reveal).ifPresent(servers::setSentinelPassword);
            common(servers, settings.username(), settings.password(), tls);
        } else {
            RedisAddress address = ((TopologySettings.Single) topology).address();
            common(config.useSingleServer().setAddress(address.redissonUri()).setDatabase(address.database())
                    .setConnectionPoolSize(settings.connectionPoolSize())
                    .setConnectionMinimumIdleSize(minimumIdle(settings.connectionPoolSize()))
                    .setSubscriptionConnectionMinimumIdleSize(1),
                    settings.username(), settings.password(), tls);
        }
        return config;
    }

    private static Config base() {
        Config config = new Config();
        // Strings on the wire: any application, in any language, can read what the stores write.
        config.setCodec(StringCodec.INSTANCE);
        // No Redisson object references (an RObject stored as another's value): nothing here stores one, and
        // the check for them keeps every value class in a static cache of Redisson's, with its class loader,
        // long after the application that wrote it is gone (docs/jcache.md).
        config.setReferenceEnabled(false);
        // Redisson's defaults (32 I/O threads, 16 listener threads) are sized for big hosts; one I/O
        // thread per core measured up to 2x the throughput on 2 cores (docs/performance.md).
        int cores = Runtime.getRuntime().availableProcessors();
        config.setNettyThreads(Math.max(2, cores));
        config.setThreads(Math.max(4, 2 * cores));
        return config;
    }

    /**
     * What every topology's nodes share: credentials, timeouts, retries and TLS (redis.tls.*, when the
     * addresses are {@code rediss://}), so each applies to one node, a Cluster and a Sentinel group alike.
     */
    private static <T extends BaseConfig<T>> void common(final T servers, final Optional<String> username,
                                                         final Optional<Secret> password,
                                                         final Optional<TlsSettings> tls) {
        servers.setClientName("compozy-cache")
                // Fail fast when Redis is down (no caller piles up behind retries), recover when it is back.
                .setConnectTimeout(5_000)
                .setTimeout(3_000)
                // Never sent twice: after a reply timeout Redisson re-sends every command but a few (EVAL and
                // EVALSHA included), so an append script or an INCR would run twice. A failed command fails
                // its caller, who knows whether it is safe to repeat (docs/reliability.md, "What is retried").
                .setRetryAttempts(0)
                .setRetryInterval(1_000);
        username.ifPresent(servers::setUsername);
        password.map(Secret::reveal).ifPresent(servers::setPassword);
        tls.ifPresent(settings -> settings.configure(servers));
    }
}
