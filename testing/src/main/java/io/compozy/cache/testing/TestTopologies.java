package io.compozy.cache.testing;

import io.compozy.cache.config.RedisAddress;
import io.compozy.cache.config.Secret;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.redisson.client.protocol.RedisCommands;

/**
 * The Redis topologies beyond one node, each started once per JVM on first use:
 * <ul>
 *   <li>{@link #cluster()}: a Redis Cluster of 3 masters with one replica each;</li>
 *   <li>{@link #sentinel()}: a Sentinel group of 1 master, 1 replica and 3 sentinels.</li>
 * </ul>
 * Both are password-protected and listen on loopback ports; every node runs from the bundled redis-server
 * and is stopped by PID when the JVM exits. {@code REDIS_CLUSTER_NODES}, or {@code REDIS_SENTINEL_NODES}
 * with {@code REDIS_SENTINEL_MASTER}, point the tests at existing ones instead (the password comes from
 * {@code REDIS_PASSWORD} or the node URLs, the sentinels' own from {@code REDIS_SENTINEL_PASSWORD}). Tests
 * share these servers: they use keys of their own and never flush.
 */
public final class TestTopologies {

    public static final String CLUSTER_NODES = "REDIS_CLUSTER_NODES";
    public static final String SENTINEL_NODES = "REDIS_SENTINEL_NODES";
    public static final String SENTINEL_MASTER = "REDIS_SENTINEL_MASTER";
    public static final String PASSWORD = "REDIS_PASSWORD";
    public static final String SENTINEL_PASSWORD = "REDIS_SENTINEL_PASSWORD";
    static final String MASTER_NAME = "compozy";
    private static final int SLOTS = 16_384;

    private static Cluster cluster;
    private static Sentinel sentinel;

    private TestTopologies() {
    }

    /** A running Redis Cluster: its seed nodes as {@code redis://host:port} and the data nodes' password. */
    public record Cluster(List<String> nodes, Optional<String> password, List<RedisProcess> processes) {

        /** The comma-separated seed list, as {@code redis.cluster.nodes} takes it. */
        public String nodeList() {
            return String.join(",", nodes);
        }

        /** Whether this JVM started the nodes (so a test may kill one). */
        public boolean owned() {
            return !processes.isEmpty();
        }

        /** Waits until every replica has every write its master has (replication offsets equal). */
        public void awaitReplicated() {
            processes.stream().filter(RedisProcess::isAlive).forEach(node -> awaitReplicasOf(node.port, password));
        }

        /** SIGKILLs the master that serves {@code key}; see {@link #killMasterOf(int)}. */
        public int killMasterOfKey(final String key) {
            RedisProcess any = processes.stream().filter(RedisProcess::isAlive).findFirst().orElseThrow();
            Long slot = RedisProcess.call(any.port, password,
                    new org.redisson.client.protocol.RedisStrictCommand<Long>("CLUSTER", "KEYSLOT"), key);
            return killMasterOf(slot.intValue());
        }

        /**
         * SIGKILLs the master serving {@code slot} (a key's slot), as a crash; its replica takes over after
         * the cluster node timeout. Returns the killed node's port. Only on a cluster this JVM started.
         */
        public int killMasterOf(final int slot) {
            RedisProcess any = processes.stream().filter(RedisProcess::isAlive).findFirst().orElseThrow();
            String nodes = RedisProcess.command(any.port, password, "CLUSTER", "NODES");
            for (String line : nodes.split("\n")) {
                String[] fields = line.trim().split(" ");
                if (fields.length < 9 || !fields[2].contains("master") || fields[2].contains("fail")) {
                    continue;
                }
                for (int i = 8; i < fields.length; i++) {
                    String[] range = fields[i].split("-");
                    int from = Integer.parseInt(range[0]);
                    int to = range.length > 1 ? Integer.parseInt(range[1]) : from;
                    if (slot >= from && slot <= to) {
                        int port = Integer.parseInt(fields[1].substring(fields[1].indexOf(':') + 1,
                                fields[1].indexOf('@')));
                        processes.stream().filter(p -> p.port == port).findFirst().orElseThrow().kill();
                        return port;
                    }
                }
            }
            throw new IllegalStateException("no live master serves slot " + slot);
        }
    }

    /** A running Sentinel group: the sentinels as {@code redis://host:port}, the master name, the passwords. */
    public record Sentinel(List<String> sentinels, String masterName, Optional<String> password,
                           Optional<String> sentinelPassword, List<RedisProcess> dataNodes) {

        public String sentinelList() {
            return String.join(",", sentinels);
        }

        public boolean owned() {
            return !dataNodes.isEmpty();
        }

        /** The current master's port, as the first sentinel answers. */
        public int masterPort() {
            RedisAddress first = RedisAddress.parse(SENTINEL_NODES, sentinels.get(0));
            Map<String, String> master = RedisProcess.call(first.port(), sentinelPassword,
                    RedisCommands.SENTINEL_MASTER, masterName);
            return Integer.parseInt(master.get("port"));
        }

        /** Waits until the replica has every write the master has (replication offsets equal). */
        public void awaitReplicated() {
            awaitReplicasOf(masterPort(), password);
        }

        /** SIGKILLs the current master; the sentinels elect the replica. Returns the killed port. */
        public int killMaster() {
            int port = masterPort();
            dataNodes.stream().filter(p -> p.port == port).findFirst().orElseThrow().kill();
            return port;
        }
    }

    /**
     * One redis-server with a Cluster node's settings (password, the same binary and configuration, cluster
     * mode off, no replica), started on a free loopback port and stopped by PID at exit: the bench's single
     * Redis beside the Cluster. Returns its {@code redis://:password@host:port/0} address.
     */
    public static String startSingleLikeAClusterNode() {
        String password = randomPassword();
        String config = String.join("\n", "requirepass " + password, "repl-diskless-sync-delay 0");
        RedisProcess node = RedisProcess.start(RedisProcess.freePort(false), config, false, Optional.of(password));
        return "redis://:" + password + "@" + RedisProcess.HOST + ":" + node.port + "/0";
    }

    /**
     * Runs one command, as the operator would, on every data node of the topology the tests use ({@code single},
     * {@code cluster} or {@code sentinel}): what Redis keeps per node only, such as an ACL user. A Cluster or
     * Sentinel group given by environment variables gets it on the nodes those name (and the current master).
     */
    public static void onEveryDataNode(final String topology, final Object... command) {
        String name = String.valueOf(command[0]);
        Object[] args = java.util.Arrays.copyOfRange(command, 1, command.length);
        switch (topology) {
            case "cluster" -> {
                Cluster running = cluster();
                for (String node : running.nodes()) {
                    RedisAddress address = RedisAddress.parse(CLUSTER_NODES, node);
                    RedisProcess.command(address.port(), running.password(), name, args);
                }
            }
            case "sentinel" -> {
                Sentinel running = sentinel();
                List<Integer> ports = running.owned() ? running.dataNodes().stream().map(p -> p.port).toList()
                        : List.of(running.masterPort());
                for (int port : ports) {
                    RedisProcess.command(port, running.password(), name, args);
                }
            }
            default -> {
                RedisAddress address = TestRedis.external();
                RedisProcess.command(address.port(), address.password().map(Secret::reveal), name, args);
            }
        }
    }

    public static synchronized Cluster cluster() {
        if (cluster == null) {
            Optional<String> given = env(CLUSTER_NODES);
            cluster = given.isPresent() ? existingCluster(given.get()) : startCluster();
        }
        return cluster;
    }

    public static synchronized Sentinel sentinel() {
        if (sentinel == null) {
            Optional<String> given = env(SENTINEL_NODES);
            sentinel = given.isPresent() ? existingSentinel(given.get()) : startSentinel();
        }
        return sentinel;
    }

    private static Cluster existingCluster(final String list) {
        List<String> nodes = split(list);
        return new Cluster(nodes, env(PASSWORD).or(() -> passwordIn(nodes)), List.of());
    }

    private static Sentinel existingSentinel(final String list) {
        List<String> nodes = split(list);
        String master = env(SENTINEL_MASTER).orElseThrow(() -> new IllegalStateException(
                SENTINEL_NODES + " is set but " + SENTINEL_MASTER + " (the master's name) is not"));
        return new Sentinel(nodes, master, env(PASSWORD), env(SENTINEL_PASSWORD).or(() -> passwordIn(nodes)),
                List.of());
    }

    /**
     * Six nodes, slots split in three, each master given a replica; ready once every node says the cluster is
     * ok. A new one at each call (an empty Cluster, for tests that need one); stopped by PID at exit.
     */
    public static Cluster startCluster() {
        Optional<String> password = Optional.of(randomPassword());
        String config = String.join("\n", "cluster-enabled yes", "cluster-config-file nodes.conf",
                "cluster-node-timeout 3000", "requirepass " + password.get(), "masterauth " + password.get(),
                "repl-diskless-sync-delay 0");
        List<RedisProcess> nodes = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            nodes.add(RedisProcess.start(RedisProcess.freePort(true), config, false, password));
        }
        List<RedisProcess> masters = nodes.subList(0, 3);
        for (int i = 0; i < 3; i++) {
            int from = i * SLOTS / 3;
            int to = (i + 1) * SLOTS / 3 - 1;
            RedisProcess.command(masters.get(i).port, password, "CLUSTER", "ADDSLOTSRANGE", from, to);
            RedisProcess.command(masters.get(i).port, password, "CLUSTER", "SET-CONFIG-EPOCH", i + 1);
        }
        for (RedisProcess node : nodes.subList(1, 6)) {
            RedisProcess.command(node.port, password, "CLUSTER", "MEET", RedisProcess.HOST, nodes.get(0).port);
        }
        RedisProcess.await("every cluster node knows the other five", () -> nodes.stream().allMatch(node ->
                RedisProcess.command(node.port, password, "CLUSTER", "NODES").lines()
                        .filter(l -> !l.contains("handshake") && !l.contains("noaddr")).count() == 6));
        for (int i = 0; i < 3; i++) {
            String masterId = RedisProcess.command(masters.get(i).port, password, "CLUSTER", "MYID");
            RedisProcess replica = nodes.get(3 + i);
            RedisProcess.await("node " + replica.port + " replicates " + masters.get(i).port, () -> {
                RedisProcess.command(replica.port, password, "CLUSTER", "REPLICATE", masterId);
                return true;
            });
        }
        RedisProcess.await("the cluster is ok on every node and every replica is in sync", () ->
                nodes.stream().allMatch(node ->
                        RedisProcess.command(node.port, password, "CLUSTER", "INFO").contains("cluster_state:ok"))
                && nodes.subList(3, 6).stream().allMatch(replica -> RedisProcess.command(replica.port, password,
                        "INFO", "replication").contains("master_link_status:up")));
        return new Cluster(nodes.stream().map(n -> "redis://" + RedisProcess.HOST + ":" + n.port).toList(),
                password, List.copyOf(nodes));
    }

    /**
     * A master, its replica and three sentinels (quorum 2), sentinels with a password of their own. A new group
     * at each call (an empty one, for tests that need one); stopped by PID at exit.
     */
    public static Sentinel startSentinel() {
        Optional<String> password = Optional.of(randomPassword());
        Optional<String> sentinelPassword = Optional.of(randomPassword());
        String dataConfig = String.join("\n", "requirepass " + password.get(), "masterauth " + password.get(),
                "repl-diskless-sync-delay 0");
        RedisProcess master = RedisProcess.start(RedisProcess.freePort(false), dataConfig, false, password);
        RedisProcess replica = RedisProcess.start(RedisProcess.freePort(false),
                dataConfig + "\nreplicaof " + RedisProcess.HOST + " " + master.port, false, password);
        RedisProcess.await("the replica is in sync", () -> RedisProcess.command(replica.port, password, "INFO",
                "replication").contains("master_link_status:up"));
        String sentinelConfig = String.join("\n",
                "requirepass " + sentinelPassword.get(),
                "sentinel sentinel-pass " + sentinelPassword.get(),
                "sentinel monitor " + MASTER_NAME + " " + RedisProcess.HOST + " " + master.port + " 2",
                "sentinel auth-pass " + MASTER_NAME + " " + password.get(),
                "sentinel down-after-milliseconds " + MASTER_NAME + " 2000",
                "sentinel failover-timeout " + MASTER_NAME + " 10000");
        List<RedisProcess> sentinels = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            sentinels.add(RedisProcess.start(RedisProcess.freePort(false), sentinelConfig, true, sentinelPassword));
        }
        RedisProcess.await("every sentinel sees the others and a quorum (SENTINEL CKQUORUM)", () ->
                sentinels.stream().allMatch(s -> RedisProcess.command(s.port, sentinelPassword, "SENTINEL",
                        "CKQUORUM", MASTER_NAME).startsWith("OK 3 usable")));
        return new Sentinel(sentinels.stream().map(s -> "redis://" + RedisProcess.HOST + ":" + s.port).toList(),
                MASTER_NAME, password, sentinelPassword, List.of(master, replica));
    }

    /**
     * On a master: waits until each connected replica has everything the master had written when this was
     * called (its offset reaches the master's offset of that moment; writers may go on meanwhile).
     */
    private static void awaitReplicasOf(final int port, final Optional<String> password) {
        String first = RedisProcess.command(port, password, "INFO", "replication");
        if (!first.contains("role:master")) {
            return;
        }
        long target = Long.parseLong(first.replaceAll("(?s).*master_repl_offset:(\\d+).*", "$1"));
        RedisProcess.await("the replicas of " + port + " have reached offset " + target, () ->
                RedisProcess.command(port, password, "INFO", "replication").lines()
                        .filter(l -> l.startsWith("slave") && l.contains("offset="))
                        .allMatch(l -> Long.parseLong(l.replaceAll(".*offset=(\\d+).*", "$1")) >= target));
    }

    private static Optional<String> passwordIn(final List<String> nodes) {
        return nodes.stream().map(n -> RedisAddress.parse(CLUSTER_NODES, n).password())
                .flatMap(Optional::stream).findFirst().map(io.compozy.cache.config.Secret::reveal);
    }

    private static List<String> split(final String list) {
        return Arrays.stream(list.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    private static Optional<String> env(final String name) {
        return Optional.ofNullable(System.getenv(name)).filter(v -> !v.isBlank());
    }

    private static String randomPassword() {
        byte[] bytes = new byte[24];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
