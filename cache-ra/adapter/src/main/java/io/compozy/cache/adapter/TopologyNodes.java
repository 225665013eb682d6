package io.compozy.cache.adapter;

import io.compozy.cache.config.TopologySettings;
import java.util.concurrent.TimeUnit;
import org.redisson.api.RedissonClient;
import org.redisson.api.redisnode.RedisNode;
import org.redisson.api.redisnode.RedisNodes;

/** The data nodes behind the client, seen through Redisson's node API for the topology in use. */
final class TopologyNodes {

    private TopologyNodes() {
    }

    /**
     * Whether every master answers PING within the timeout: what writes need. A lost replica (or a dead master
     * whose replica took over) does not make the cache unavailable; status lists every node.
     */
    static boolean mastersAnswer(final RedissonClient client, final TopologySettings topology,
                                 final long timeoutMillis) {
        if (topology instanceof TopologySettings.Cluster) {
            var masters = client.getRedisNodes(RedisNodes.CLUSTER).getMasters();
            return !masters.isEmpty() && masters.stream().allMatch(m -> m.ping(timeoutMillis, TimeUnit.MILLISECONDS));
        }
        return aMaster(client, topology).ping(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    /** A master's {@code redis_version} (every node of a deployment runs the same one). */
    static String version(final RedissonClient client, final TopologySettings topology) {
        return aMaster(client, topology).info(RedisNode.InfoSection.SERVER).get("redis_version");
    }

    private static RedisNode aMaster(final RedissonClient client, final TopologySettings topology) {
        if (topology instanceof TopologySettings.Cluster) {
            return client.getRedisNodes(RedisNodes.CLUSTER).getMasters().iterator().next();
        }
        if (topology instanceof TopologySettings.Sentinel) {
            return client.getRedisNodes(RedisNodes.SENTINEL_MASTER_SLAVE).getMaster();
        }
        return client.getRedisNodes(RedisNodes.SINGLE).getInstance();
    }
}
