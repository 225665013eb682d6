package io.compozy.cache.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.compozy.cache.adapter.RedissonConfigs;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.redisson.config.Config;
import org.redisson.config.ReadMode;

class TopologySettingsTest {

    private static CacheSettings load(final Map<String, String> values) {
        return CacheSettings.load(ConfigLookup.of(values));
    }

    @Test
    void withoutTopologyKeysTheOneNodeOfRedisAddrIsUsed() {
        CacheSettings settings = load(Map.of("redis.addr", "redis://db:6380/3"));
        assertThat(settings.topology()).isEqualTo(new TopologySettings.Single(settings.address()));
        assertThat(settings.topology().name()).isEqualTo("single");
    }

    @Test
    void clusterSeedsAreParsedAndTheirPasswordCountsLikeRedisAddrs() {
        CacheSettings settings = load(Map.of("redis.cluster.nodes",
                " redis://:seed-secret@a:7000, redis://b:7001 ,,redis://c:7002"));
        TopologySettings.Cluster cluster = (TopologySettings.Cluster) settings.topology();
        assertThat(cluster.seeds()).extracting(RedisAddress::port).containsExactly(7000, 7001, 7002);
        assertThat(settings.password()).get().extracting(Secret::reveal).isEqualTo("seed-secret");
        assertThat(load(Map.of("redis.cluster.nodes", "redis://:seed-secret@a:7000", "redis.password", "key"))
                .password()).get().extracting(Secret::reveal).isEqualTo("key");
        assertThat(settings.toString()).doesNotContain("seed-secret");
    }

    @Test
    void twoTopologiesAreRefusedNamingBothKeysAndNoPassword() {
        assertThatThrownBy(() -> load(Map.of("redis.addr", "redis://:pw-in-addr@db:6379",
                "redis.cluster.nodes", "redis://:pw-in-seed@a:7000")))
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining("redis.addr").hasMessageContaining("redis.cluster.nodes")
                .hasMessageNotContaining("pw-in-addr").hasMessageNotContaining("pw-in-seed");
        assertThatThrownBy(() -> load(Map.of("redis.cluster.nodes", "redis://a:7000",
                "redis.sentinel.nodes", "redis://s:26379", "redis.sentinel.master", "m")))
                .hasMessageContaining("redis.cluster.nodes").hasMessageContaining("redis.sentinel.nodes");
    }

    @Test
    void clusterRefusesADatabaseOtherThanZero() {
        assertThatThrownBy(() -> load(Map.of("redis.cluster.nodes", "redis://a:7000/0,redis://:secret@b:7001/2")))
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining("'redis.cluster.nodes'").hasMessageContaining("database 0 only")
                .hasMessageNotContaining("secret");
        assertThat(load(Map.of("redis.cluster.nodes", "redis://a:7000/0")).topology())
                .isInstanceOf(TopologySettings.Cluster.class);
    }

    @Test
    void sentinelNeedsItsMasterName() {
        assertThatThrownBy(() -> load(Map.of("redis.sentinel.nodes", "redis://s1:26379")))
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining("'redis.sentinel.master'").hasMessageContaining("redis.sentinel.nodes");
        assertThatThrownBy(() -> load(Map.of("redis.sentinel.master", "mymaster")))
                .hasMessageContaining("'redis.sentinel.master'").hasMessageContaining("redis.sentinel.nodes");
    }

    @Test
    void sentinelCredentialsAreTheirOwnAndNeverShown() {
        CacheSettings settings = load(Map.of("redis.sentinel.nodes", "redis://s1:26379,redis://s2:26380",
                "redis.sentinel.master", "mymaster", "redis.sentinel.username", "watcher",
                "redis.sentinel.password", "sentinel-secret", "redis.password", "data-secret"));
        TopologySettings.Sentinel sentinel = (TopologySettings.Sentinel) settings.topology();
        assertThat(sentinel.master()).isEqualTo("mymaster");
        assertThat(sentinel.sentinelUsername()).contains("watcher");
        assertThat(sentinel.sentinelPassword()).get().extracting(Secret::reveal).isEqualTo("sentinel-secret");
        assertThat(settings.password()).get().extracting(Secret::reveal).isEqualTo("data-secret");
        assertThat(settings.toString()).doesNotContain("sentinel-secret").doesNotContain("data-secret");
    }

    @Test
    void mixedSchemesAndEmptyListsAreRefused() {
        assertThatThrownBy(() -> load(Map.of("redis.cluster.nodes", "redis://a:7000,rediss://b:7001")))
                .hasMessageContaining("'redis.cluster.nodes'").hasMessageContaining("rediss://");
        assertThatThrownBy(() -> load(Map.of("redis.cluster.nodes", " , ")))
                .hasMessageContaining("'redis.cluster.nodes'").hasMessageContaining("no address");
        assertThatThrownBy(() -> load(Map.of("redis.cluster.nodes", "http://a:7000")))
                .hasMessageContaining("'redis.cluster.nodes'");
    }

    @Test
    void everyTopologyReadsFromMastersWithTheSharedCredentials() {
        Config cluster = RedissonConfigs.distributed(load(Map.of("redis.cluster.nodes", "redis://a:7000,redis://b:7001",
                "redis.password", "pw")));
        assertThat(cluster.useClusterServers().getReadMode()).isEqualTo(ReadMode.MASTER);
        assertThat(cluster.useClusterServers().getNodeAddresses()).containsExactly("redis://a:7000", "redis://b:7001");
        assertThat(cluster.useClusterServers().getPassword()).isEqualTo("pw");
        Config sentinel = RedissonConfigs.distributed(load(Map.of("redis.sentinel.nodes", "redis://s:26379/2",
                "redis.sentinel.master", "m", "redis.password", "pw")));
        assertThat(sentinel.useSentinelServers().getReadMode()).isEqualTo(ReadMode.MASTER);
        assertThat(sentinel.useSentinelServers().getDatabase()).isEqualTo(2);
        assertThat(sentinel.useSentinelServers().getMasterName()).isEqualTo("m");
        assertThat(sentinel.useSentinelServers().getPassword()).isEqualTo("pw");
    }
}
