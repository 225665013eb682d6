package io.compozy.cache.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Which Redis deployment distributed mode talks to: one node ({@code redis.addr}), a Redis Cluster
 * ({@code redis.cluster.nodes}) or a Sentinel group ({@code redis.sentinel.nodes} + {@code redis.sentinel.master}).
 * At most one may be given; {@code redis.username}, {@code redis.password} and TLS apply to every data node.
 */
public sealed interface TopologySettings {

    String CLUSTER_NODES = "redis.cluster.nodes";
    String SENTINEL_NODES = "redis.sentinel.nodes";
    String SENTINEL_MASTER = "redis.sentinel.master";
    String SENTINEL_USERNAME = "redis.sentinel.username";
    String SENTINEL_PASSWORD = "redis.sentinel.password";

    /** {@code single}, {@code cluster} or {@code sentinel}, as status and metrics show it. */
    String name();

    /** Whether the data nodes are reached over TLS ({@code rediss://}). */
    boolean tls();

    /** One Redis node at {@code redis.addr}. */
    record Single(RedisAddress address) implements TopologySettings {
        @Override
        public String name() {
            return "single";
        }

        @Override
        public boolean tls() {
            return address.tls();
        }
    }

    /** A Redis Cluster found through its seed nodes; database 0 only (Redis Cluster has no other). */
    record Cluster(List<RedisAddress> seeds) implements TopologySettings {
        @Override
        public String name() {
            return "cluster";
        }

        @Override
        public boolean tls() {
            return seeds.get(0).tls();
        }
    }

    /** A master found through its sentinels, which may have an AUTH of their own. */
    record Sentinel(List<RedisAddress> sentinels, String master, int database, Optional<String> sentinelUsername,
                    Optional<Secret> sentinelPassword) implements TopologySettings {
        @Override
        public String name() {
            return "sentinel";
        }

        @Override
        public boolean tls() {
            return sentinels.get(0).tls();
        }
    }

    /**
     * @param address {@code redis.addr} as parsed (its default when unset)
     * @param addressGiven whether {@code redis.addr} was set explicitly
     * @throws InvalidConfigurationException naming the keys, never a password
     */
    static TopologySettings load(final ConfigLookup config, final RedisAddress address, final boolean addressGiven) {
        Optional<String> clusterNodes = config.get(CLUSTER_NODES);
        Optional<String> sentinelNodes = config.get(SENTINEL_NODES);
        List<String> given = new ArrayList<>();
        if (addressGiven) {
            given.add(CacheSettings.ADDR);
        }
        clusterNodes.ifPresent(v -> given.add(CLUSTER_NODES));
        sentinelNodes.ifPresent(v -> given.add(SENTINEL_NODES));
        if (given.size() > 1) {
            throw new InvalidConfigurationException(given.get(1), "only one topology may be configured, but "
                    + String.join(" and ", given) + " are all set; keep " + CacheSettings.ADDR + " for one node, "
                    + CLUSTER_NODES + " for a Redis Cluster or " + SENTINEL_NODES + " for Redis Sentinel");
        }
        Optional<String> master = config.get(SENTINEL_MASTER);
        if (clusterNodes.isPresent()) {
            List<RedisAddress> seeds = addresses(CLUSTER_NODES, clusterNodes.get());
            RedisAddress withDatabase = seeds.stream().filter(a -> a.database() != 0).findFirst().orElse(null);
            if (withDatabase != null) {
                throw new InvalidConfigurationException(CLUSTER_NODES, "'" + withDatabase + "' names database "
                        + withDatabase.database() + ", but Redis Cluster has database 0 only; drop the /"
                        + withDatabase.database());
            }
            return new Cluster(seeds);
        }
        if (sentinelNodes.isPresent()) {
            if (master.isEmpty()) {
                throw new InvalidConfigurationException(SENTINEL_MASTER, "is required with " + SENTINEL_NODES
                        + ": set it to the master's name as the sentinels know it (sentinel monitor <name> ...)");
            }
            List<RedisAddress> sentinels = addresses(SENTINEL_NODES, sentinelNodes.get());
            if (sentinels.stream().map(RedisAddress::database).distinct().count() > 1) {
                throw new InvalidConfigurationException(SENTINEL_NODES, "the addresses name different database"
                        + " indexes; give the same /db on every sentinel (or none, for 0)");
            }
            Optional<String> username = config.get(SENTINEL_USERNAME)
                    .or(() -> sentinels.stream().flatMap(a -> a.username().stream()).findFirst());
            Optional<Secret> password = config.raw(SENTINEL_PASSWORD).filter(p -> !p.isEmpty()).map(Secret::of)
                    .or(() -> sentinels.stream().flatMap(a -> a.password().stream()).findFirst());
            return new Sentinel(sentinels, master.get(), sentinels.get(0).database(), username, password);
        }
        for (String sentinelOnly : List.of(SENTINEL_MASTER, SENTINEL_USERNAME, SENTINEL_PASSWORD)) {
            if (config.get(sentinelOnly).isPresent()) {
                throw new InvalidConfigurationException(sentinelOnly, "is set but " + SENTINEL_NODES
                        + " is not; give the sentinels' addresses too, or remove it");
            }
        }
        return new Single(address);
    }

    /** Comma-separated addresses, all with the same scheme (TLS on every node or on none). */
    private static List<RedisAddress> addresses(final String key, final String list) {
        List<RedisAddress> addresses = new ArrayList<>();
        for (String raw : list.split(",")) {
            if (!raw.isBlank()) {
                addresses.add(RedisAddress.parse(key, raw.trim()));
            }
        }
        if (addresses.isEmpty()) {
            throw new InvalidConfigurationException(key, "names no address; write redis://host:port[,redis://host:port...]");
        }
        if (addresses.stream().map(RedisAddress::tls).distinct().count() > 1) {
            throw new InvalidConfigurationException(key, "mixes redis:// and rediss:// addresses; use one scheme"
                    + " for every node");
        }
        return List.copyOf(addresses);
    }
}
