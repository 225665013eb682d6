package io.compozy.cache.adapter;

import io.compozy.cache.api.TopologyInfo;
import io.compozy.cache.config.TopologySettings;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.api.redisnode.RedisSentinel;
import org.redisson.client.codec.StringCodec;
import org.redisson.client.protocol.RedisCommands;
import org.redisson.cluster.ClusterNodeInfo;
import org.redisson.command.CommandAsyncExecutor;
import org.redisson.api.redisnode.RedisNode;
import org.redisson.api.redisnode.RedisNodes;

/**
 * Lists the topology's nodes for status and health, and notices failovers: every second it looks at the
 * masters the client follows. When one master has been replaced by another (Sentinel elected a replica, or a
 * Cluster replica took over its master's slots; {@link MasterChanges} pairs the two) it logs one WARNING with
 * the old and the new master and counts it. Only Cluster and Sentinel are watched; one node has no failover.
 */
final class TopologyWatch implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(TopologyWatch.class.getName());
    static final long CHECK_INTERVAL_MS = 1_000;
    private static final long PING_TIMEOUT_MS = 1_000;

    private final RedissonClient client;
    private final TopologySettings topology;
    private final AtomicLong failovers = new AtomicLong();
    private final ScheduledExecutorService checker;
    /** The masters as last seen (host:port), and the failovers between looks. */
    private final MasterChanges changes = new MasterChanges();

    TopologyWatch(final RedissonClient client, final TopologySettings topology) {
        this.client = client;
        this.topology = topology;
        if (topology instanceof TopologySettings.Single) {
            checker = null;
            return;
        }
        checker = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "compozy-cache-topology-watch");
            thread.setDaemon(true);
            return thread;
        });
        checker.scheduleWithFixedDelay(this::checkQuietly, 0, CHECK_INTERVAL_MS, TimeUnit.MILLISECONDS);
    }

    /**
     * Every node and its role. The client connects to masters only (reads go to masters), so replicas are
     * described by the deployment itself: a Cluster's CLUSTER NODES (a node flagged failing is unreachable), the
     * sentinels' view of the replicas (subjectively down or disconnected is unreachable); masters and sentinels
     * are pinged now, in parallel, a second at most.
     */
    TopologyInfo info() {
        List<TopologyInfo.Node> nodes = new ArrayList<>();
        try {
            if (topology instanceof TopologySettings.Cluster) {
                nodes.addAll(clusterNodes());
            } else if (topology instanceof TopologySettings.Sentinel sentinel) {
                var group = client.getRedisNodes(RedisNodes.SENTINEL_MASTER_SLAVE);
                List<NodeProbe> probes = new ArrayList<>();
                probes.add(new NodeProbe(group.getMaster(), "master"));
                group.getSentinels().forEach(n -> probes.add(new NodeProbe(n, "sentinel")));
                nodes.add(probes.get(0).result());
                nodes.addAll(sentinelReplicas(group.getSentinels(), sentinel.master()));
                probes.stream().skip(1).map(NodeProbe::result).forEach(nodes::add);
            } else {
                nodes.add(new NodeProbe(client.getRedisNodes(RedisNodes.SINGLE).getInstance(), "master").result());
            }
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "could not list the topology's nodes", e);
        }
        return new TopologyInfo(topology.name(), List.copyOf(nodes), failovers.get());
    }

    private List<TopologyInfo.Node> clusterNodes() {
        CommandAsyncExecutor commands = ((Redisson) client).getCommandExecutor();
        List<ClusterNodeInfo> infos = commands.get(commands.<List<ClusterNodeInfo>, List<ClusterNodeInfo>>readRandomAsync(
                StringCodec.INSTANCE, RedisCommands.REDIS_CLUSTER_NODES));
        return infos.stream().filter(n -> n.getAddress() != null && !n.containsFlag(ClusterNodeInfo.Flag.HANDSHAKE))
                .map(n -> new TopologyInfo.Node(n.getAddress().getHost() + ":" + n.getAddress().getPort(),
                        n.containsFlag(ClusterNodeInfo.Flag.SLAVE) ? "replica" : "master",
                        !n.containsFlag(ClusterNodeInfo.Flag.FAIL) && !n.containsFlag(ClusterNodeInfo.Flag.EVENTUAL_FAIL)))
                .sorted(java.util.Comparator.comparing(TopologyInfo.Node::role).thenComparing(TopologyInfo.Node::address))
                .toList();
    }

    private static List<TopologyInfo.Node> sentinelReplicas(final Collection<RedisSentinel> sentinels,
                                                            final String master) {
        for (RedisSentinel sentinel : sentinels) {
            try {
                return sentinel.getSlaves(master).stream().map(r -> new TopologyInfo.Node(r.get("ip") + ":"
                        + r.get("port"), "replica", !String.valueOf(r.get("flags")).matches(".*(s_down|o_down|disconnected).*")))
                        .toList();
            } catch (RuntimeException e) {
                LOG.log(Level.FINE, "sentinel did not list the replicas; asking the next", e);
            }
        }
        return List.of();
    }

    long failovers() {
        return failovers.get();
    }

    @Override
    public void close() {
        if (checker != null) {
            checker.shutdownNow(); // only Redisson calls run on it; nothing to leave half-done
        }
    }

    private void checkQuietly() {
        try {
            check();
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "topology check failed; trying again in " + CHECK_INTERVAL_MS + " ms", e);
        }
    }

    /** One look at the masters; a failover is logged once its successor is listed, whichever came first. */
    private void check() {
        Set<String> now = new TreeSet<>();
        if (topology instanceof TopologySettings.Cluster) {
            client.getRedisNodes(RedisNodes.CLUSTER).getMasters().forEach(n -> now.add(address(n.getAddr())));
        } else {
            now.add(address(client.getRedisNodes(RedisNodes.SENTINEL_MASTER_SLAVE).getMaster().getAddr()));
        }
        var failover = changes.observe(now, System.nanoTime());
        if (failover.isPresent()) {
            failovers.addAndGet(failover.get().count());
            LOG.warning("Redis " + topology.name() + " failover: master " + String.join(", ", failover.get().gone())
                    + " replaced by " + String.join(", ", failover.get().successors()) + " (failover "
                    + failovers.get() + " since start)");
        } else if (!changes.newInLastLook().isEmpty()) {
            LOG.info("Redis " + topology.name() + ": new master " + String.join(", ", changes.newInLastLook()));
        }
    }

    private static String address(final InetSocketAddress address) {
        return address.getHostString() + ":" + address.getPort();
    }

    /** A node's PING, started at once so that all nodes are pinged together. */
    private static final class NodeProbe {
        private final String address;
        private final String role;
        private final CompletableFuture<Boolean> ping;

        NodeProbe(final RedisNode node, final String role) {
            this.address = address(node.getAddr());
            this.role = role;
            CompletableFuture<Boolean> started;
            try {
                started = ((org.redisson.api.redisnode.RedisNodeAsync) node)
                        .pingAsync(PING_TIMEOUT_MS, TimeUnit.MILLISECONDS).toCompletableFuture();
            } catch (RuntimeException e) {
                started = CompletableFuture.completedFuture(false);
            }
            this.ping = started;
        }

        TopologyInfo.Node result() {
            boolean reachable;
            try {
                reachable = ping.get(PING_TIMEOUT_MS * 2, TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                reachable = false;
            }
            return new TopologyInfo.Node(address, role, reachable);
        }
    }
}
