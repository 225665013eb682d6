package io.compozy.cache.adapter;

import io.compozy.cache.config.TopologySettings;
import java.util.concurrent.TimeUnit;
import org.redisson.api.RedissonClient;
import org.redisson.api.redisnode.BaseRedisNodes;
import org.redisson.api.redisnode.RedisNode;
import org.redisson.api.redisnode.RedisNodes;

/** The data nodes behind the client, seen through Redisson's node API for the topology in use. */
final class TopologyNodes {

    private TopologyNodes() {
    }

    static BaseRedisNodes of(final RedissonClient client, final TopologySettings topology) {
        if (topology instanceof TopologySettings.Cluster) {
            return client.getRedisNodes(RedisNodes.CLUSTER);
        }
        if (topology instanceof TopologySettings.Sentinel) {
            return client.getRedisNodes(RedisNodes.SENTINEL_MASTER_SLAVE);
        }
        return client.getRedisNodes(RedisNodes.SINGLE);
    }

    /** Whether every data node answers PING within the timeout. */
    static boolean pingAll(final RedissonClient client, final TopologySettings topology, final long timeoutMillis) {
        return of(client, topology).pingAll(timeoutMillis, TimeUnit.MILLISECONDS);
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
