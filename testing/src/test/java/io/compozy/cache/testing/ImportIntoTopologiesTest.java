package io.compozy.cache.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.compozy.cache.adapter.CacheBackend;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ConfigLookup;
import io.compozy.cache.config.ImportSettings;
import io.compozy.cache.config.PersistenceSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.redisson.api.RStream;
import org.redisson.api.RedissonClient;
import org.redisson.api.StreamMessageId;
import org.redisson.api.stream.StreamAddArgs;
import org.redisson.api.stream.StreamCreateGroupArgs;
import org.redisson.client.codec.StringCodec;

/**
 * A standalone server's snapshot store moved into an empty Redis Cluster and an empty Sentinel group by
 * configuration alone (redis.distributed.import.data_dir): every type, absolute expiries, keys routed to
 * their slots, a second start importing nothing. Each test starts a topology of its own (the suites' shared
 * ones hold other tests' data, and an import only goes into an empty target).
 */
class ImportIntoTopologiesTest {

    /** Where an import keeps its record in the Redis it fills (docs/migration.md). */
    private static final String IMPORT_MARKER = "__compozy_internal__:import";

    private static final Executor PUMP = task -> {
        Thread thread = new Thread(task, "test-redis-output");
        thread.setDaemon(true);
        thread.start();
    };

    @TempDir
    Path root;

    @Test
    void aStandaloneStoreMovesIntoAnEmptyClusterWithEveryTypeAndExpiry() {
        Map<String, Long> ttls = writeStandalone();
        TestTopologies.Cluster cluster = TestTopologies.startCluster();
        Map<String, String> distributed = new HashMap<>(Map.of("redis.mode", "distributed",
                "redis.cluster.nodes", cluster.nodeList(),
                ImportSettings.DISTRIBUTED_DATA_DIR, root.resolve("data").toString()));
        cluster.password().ifPresent(p -> distributed.put(CacheSettings.PASSWORD, p));
        importAndCheck(distributed, ttls);
    }

    @Test
    void aStandaloneStoreMovesIntoAnEmptySentinelGroupWithEveryTypeAndExpiry() {
        Map<String, Long> ttls = writeStandalone();
        TestTopologies.Sentinel sentinel = TestTopologies.startSentinel();
        Map<String, String> distributed = new HashMap<>(Map.of("redis.mode", "distributed",
                "redis.sentinel.nodes", sentinel.sentinelList(), "redis.sentinel.master", sentinel.masterName(),
                ImportSettings.DISTRIBUTED_DATA_DIR, root.resolve("data").toString()));
        sentinel.password().ifPresent(p -> distributed.put(CacheSettings.PASSWORD, p));
        sentinel.sentinelPassword().ifPresent(p -> distributed.put("redis.sentinel.password", p));
        importAndCheck(distributed, ttls);
    }

    /** Writes one key of every type (and one about to expire) on a standalone server; its stop snapshots them. */
    private Map<String, Long> writeStandalone() {
        Map<String, String> values = new HashMap<>(Map.of("redis.mode", "standalone",
                CacheSettings.WORK_DIR, root.resolve("work").toString(),
                PersistenceSettings.ENABLED, "true",
                PersistenceSettings.DATA_DIR, root.resolve("data").toString()));
        try (CacheBackend standalone = start(values)) {
            RedissonClient redis = standalone.client();
            redis.getBucket("str:plain", StringCodec.INSTANCE).set("hello");
            redis.getBucket("str:ttl", StringCodec.INSTANCE).set("bye", Duration.ofHours(1));
            redis.getMap("hash:h", StringCodec.INSTANCE).putAll(Map.of("a", "1", "b", "2"));
            redis.getMap("hash:h", StringCodec.INSTANCE).expire(Duration.ofMinutes(30));
            redis.getList("list:l", StringCodec.INSTANCE).addAll(List.of("x", "y", "z"));
            redis.getSet("set:s", StringCodec.INSTANCE).addAll(List.of("p", "q"));
            redis.getScoredSortedSet("zset:z", StringCodec.INSTANCE).add(1.5, "m1");
            redis.getScoredSortedSet("zset:z", StringCodec.INSTANCE).add(2.5, "m2");
            RStream<String, String> stream = redis.getStream("stream:x", StringCodec.INSTANCE);
            stream.add(StreamAddArgs.entry("k", "v1"));
            stream.add(StreamAddArgs.entry("k", "v2"));
            stream.createGroup(StreamCreateGroupArgs.name("workers").id(StreamMessageId.ALL));
            redis.getList("{memory:conversation}", StringCodec.INSTANCE).add("{\"role\":\"user\"}");
            redis.getMap("{memory:conversation}:metadata", StringCodec.INSTANCE).put("message_count", "1");
            redis.getBucket("expired:soon", StringCodec.INSTANCE).set("gone", Duration.ofMillis(300));
            return Map.of("str:ttl", redis.getBucket("str:ttl").remainTimeToLive(),
                    "hash:h", redis.getMap("hash:h").remainTimeToLive());
        }
    }

    private void importAndCheck(final Map<String, String> distributed, final Map<String, Long> ttlsBefore) {
        try (CacheBackend target = start(distributed)) {
            RedissonClient redis = target.client();
            Set<String> keys = redis.getKeys().getKeysStream().collect(Collectors.toSet());
            assertThat(keys).as("every key, on whichever master its slot lives; the expired one skipped; the"
                    + " import's marker").containsExactlyInAnyOrder("str:plain", "str:ttl", "hash:h", "list:l", "set:s",
                            "zset:z", "stream:x", "{memory:conversation}", "{memory:conversation}:metadata",
                            IMPORT_MARKER);
            assertThat(redis.getMap(IMPORT_MARKER, StringCodec.INSTANCE).readAllMap())
                    .containsEntry("state", "done").containsEntry("keys", "9");
            assertThat(redis.getBucket("str:plain", StringCodec.INSTANCE).get()).isEqualTo("hello");
            assertThat(redis.getBucket("str:plain").remainTimeToLive()).isEqualTo(-1);
            assertThat(redis.getMap("hash:h", StringCodec.INSTANCE).readAllMap()).isEqualTo(Map.of("a", "1", "b", "2"));
            assertThat(redis.getList("list:l", StringCodec.INSTANCE).readAll()).containsExactly("x", "y", "z");
            assertThat(redis.getSet("set:s", StringCodec.INSTANCE).readAll()).containsExactlyInAnyOrder("p", "q");
            assertThat(redis.getScoredSortedSet("zset:z", StringCodec.INSTANCE).getScore("m2")).isEqualTo(2.5);
            RStream<String, String> stream = redis.getStream("stream:x", StringCodec.INSTANCE);
            assertThat(stream.size()).isEqualTo(2);
            assertThat(stream.listGroups()).extracting(g -> g.getName()).containsExactly("workers");
            for (Map.Entry<String, Long> before : ttlsBefore.entrySet()) {
                // Absolute expiry: the time spent stopping and copying is taken off, never added.
                assertThat(redis.getBucket(before.getKey()).remainTimeToLive()).as(before.getKey())
                        .isPositive().isLessThanOrEqualTo(before.getValue());
            }
            redis.getBucket("str:plain", StringCodec.INSTANCE).set("changed after the import");
        }
        try (CacheBackend again = start(distributed)) {
            assertThat(again.client().getBucket("str:plain", StringCodec.INSTANCE).get())
                    .as("a second start imports nothing into a Redis that is no longer empty")
                    .isEqualTo("changed after the import");
        }
    }

    /** The way back from a Cluster is not one node: a node holds only its slots' keys, so it is refused. */
    @Test
    void aStandaloneImportFromAClusterNodeIsRefusedAsPartial() {
        TestTopologies.Cluster cluster = TestTopologies.cluster();
        Map<String, String> standalone = new HashMap<>(Map.of("redis.mode", "standalone",
                CacheSettings.WORK_DIR, root.resolve("work").toString(),
                io.compozy.cache.config.PersistenceSettings.ENABLED, "true",
                io.compozy.cache.config.PersistenceSettings.DATA_DIR, root.resolve("data").toString(),
                ImportSettings.STANDALONE_FROM, cluster.nodes().get(0)));
        cluster.password().ifPresent(p -> standalone.put(ImportSettings.STANDALONE_PASSWORD, p));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> start(standalone))
                .hasMessageContaining("is a node of a Redis Cluster")
                .hasMessageContaining("Nothing was copied");
    }

    private static CacheBackend start(final Map<String, String> values) {
        ConfigLookup config = ConfigLookup.of(values);
        CacheSettings settings = CacheSettings.load(config);
        return CacheBackend.start(settings, ImportSettings.load(config, settings.mode(),
                settings.standalone().persistence()), PUMP);
    }
}
