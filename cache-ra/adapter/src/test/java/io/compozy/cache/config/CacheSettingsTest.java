package io.compozy.cache.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CacheSettingsTest {

    @Test
    void defaultsFollowTheSpec() {
        CacheSettings settings = CacheSettings.load(ConfigLookup.of(Map.of()));
        assertThat(settings.mode()).isEqualTo(Mode.DISTRIBUTED);
        assertThat(settings.address().toString()).isEqualTo("redis://localhost:6379/0");
        assertThat(settings.password()).isEmpty();
        long quarterMb = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getTotalMemorySize() / 4 / (1024 * 1024);
        assertThat(settings.standalone().maxMemory()).as("a quarter of the machine's memory")
                .isEqualTo(quarterMb + "mb");
        assertThat(CacheSettings.load(ConfigLookup.of(Map.of("redis.standalone.max_memory", "0")))
                .standalone().maxMemory()).as("0 is still no limit").isEqualTo("0");
        assertThat(settings.standalone().maxMemoryPolicy()).isEqualTo("noeviction");
        assertThat(settings.standalone().startTimeout()).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void theConnectionPoolIsRedissonsDefaultUnlessSetAndABadSizeNamesTheKey() {
        assertThat(CacheSettings.load(ConfigLookup.of(Map.of())).connectionPoolSize()).isEqualTo(64);
        CacheSettings four = CacheSettings.load(ConfigLookup.of(Map.of(CacheSettings.CONNECTION_POOL_SIZE, "4")));
        assertThat(four.connectionPoolSize()).isEqualTo(4);
        assertThat(io.compozy.cache.adapter.RedissonConfigs.distributed(four).useSingleServer().getConnectionPoolSize())
                .isEqualTo(4);
        for (String bad : new String[] {"0", "many", "5000"}) {
            assertThatThrownBy(() -> CacheSettings.load(ConfigLookup.of(Map.of(CacheSettings.CONNECTION_POOL_SIZE, bad))))
                    .hasMessageContaining("'" + CacheSettings.CONNECTION_POOL_SIZE + "'");
        }
    }

    @Test
    void passwordKeyWinsOverTheUriAndIsNeverPrinted() {
        CacheSettings settings = CacheSettings.load(ConfigLookup.of(Map.of(
                "redis.addr", "redis://:from-uri@db:6379", "redis.password", "from-key")));
        assertThat(settings.password()).get().extracting(Secret::reveal).isEqualTo("from-key");
        assertThat(settings.toString()).doesNotContain("from-key").doesNotContain("from-uri");
    }

    @Test
    void standaloneLimitsAreValidatedWithTheirKeys() {
        assertThatThrownBy(() -> CacheSettings.load(ConfigLookup.of(Map.of("redis.standalone.max_memory", "lots"))))
                .hasMessageContaining("'redis.standalone.max_memory'");
        assertThatThrownBy(() -> CacheSettings.load(ConfigLookup.of(
                Map.of("redis.standalone.max_memory_policy", "lru"))))
                .hasMessageContaining("'redis.standalone.max_memory_policy'")
                .hasMessageContaining("allkeys-lru");
        assertThatThrownBy(() -> CacheSettings.load(ConfigLookup.of(Map.of("redis.standalone.binary", "/nope"))))
                .hasMessageContaining("'redis.standalone.binary'");
        assertThatThrownBy(() -> CacheSettings.load(ConfigLookup.of(Map.of("redis.standalone.start_timeout", "0s"))))
                .hasMessageContaining("'redis.standalone.start_timeout'");
        assertThat(CacheSettings.load(ConfigLookup.of(Map.of("redis.standalone.max_memory", "256MB",
                "redis.standalone.start_timeout", "PT2S"))).standalone())
                .satisfies(s -> {
                    assertThat(s.maxMemory()).isEqualTo("256mb");
                    assertThat(s.startTimeout()).isEqualTo(Duration.ofSeconds(2));
                });
    }

    @Test
    void theOtherComponentsModesAreCheckedAtStartNamingTheirKey() {
        assertThatThrownBy(() -> CacheSettings.load(ConfigLookup.of(Map.of("temporal.mode", "local"))))
                .isInstanceOf(InvalidConfigurationException.class).hasMessageContaining("'temporal.mode'");
        assertThatThrownBy(() -> CacheSettings.load(ConfigLookup.of(Map.of("mcp_proxy.mode", "remote"))))
                .isInstanceOf(InvalidConfigurationException.class).hasMessageContaining("'mcp_proxy.mode'");
        assertThat(CacheSettings.load(ConfigLookup.of(Map.of("temporal.mode", "remote", "mcp_proxy.mode",
                "standalone", "mode", "standalone"))).mode()).isEqualTo(Mode.STANDALONE);
    }
}
