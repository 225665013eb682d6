package io.compozy.cache.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ModeResolverTest {

    private static ModeResolver resolver(final String global, final String component, final String componentKey) {
        Map<String, String> values = new HashMap<>();
        if (global != null) {
            values.put(ModeResolver.GLOBAL_KEY, global);
        }
        if (component != null) {
            values.put(componentKey, component);
        }
        return new ModeResolver(ConfigLookup.of(values));
    }

    /** Every combination of the three sources: component override, global mode, default. */
    @ParameterizedTest(name = "mode={0}, redis.mode={1} -> {2}")
    @CsvSource(nullValues = "unset", value = {
            "unset,       unset,       distributed",
            "unset,       standalone,  standalone",
            "unset,       distributed, distributed",
            "standalone,  unset,       standalone",
            "distributed, unset,       distributed",
            "standalone,  distributed, distributed",
            "distributed, standalone,  standalone",
            "standalone,  standalone,  standalone",
            "'',          '',          distributed",
            "standalone,  '  ',        standalone",
    })
    void redisModeFollowsComponentThenGlobalThenDefault(final String global, final String redis, final String expected) {
        assertThat(resolver(global, redis, ModeResolver.REDIS_KEY).redisMode().value()).isEqualTo(expected);
    }

    @ParameterizedTest(name = "mode={0}, mcp_proxy.mode={1} -> {2}")
    @CsvSource(nullValues = "unset", value = {
            "unset,      unset,      distributed",
            "standalone, unset,      standalone",
            "standalone, distributed, distributed",
    })
    void mcpProxyModeUsesTheSameRule(final String global, final String mcp, final String expected) {
        assertThat(resolver(global, mcp, ModeResolver.MCP_PROXY_KEY).mcpProxyMode().value()).isEqualTo(expected);
    }

    @ParameterizedTest(name = "mode={0}, temporal.mode={1} -> {2}")
    @CsvSource(nullValues = "unset", value = {
            "unset,       unset,       remote",
            "distributed, unset,       remote",
            "standalone,  unset,       standalone",
            "standalone,  distributed, remote",
            "standalone,  remote,      remote",
            "distributed, standalone,  standalone",
            "unset,       remote,      remote",
    })
    void temporalModeNormalisesDistributedToRemote(final String global, final String temporal, final String expected) {
        assertThat(resolver(global, temporal, ModeResolver.TEMPORAL_KEY).temporalMode()).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"embedded", "Standalone", "cluster", "remote"})
    void invalidComponentModeNamesTheKeyAndAllowedValues(final String value) {
        assertThatThrownBy(() -> resolver(null, value, ModeResolver.REDIS_KEY).redisMode())
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining("'redis.mode'")
                .hasMessageContaining("'" + value + "'")
                .hasMessageContaining("standalone | distributed");
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "DISTRIBUTED"})
    void invalidGlobalModeNamesTheGlobalKeyEvenWhenOverridden(final String value) {
        assertThatThrownBy(() -> resolver(value, "standalone", ModeResolver.REDIS_KEY).redisMode())
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining("'mode'")
                .hasMessageContaining("standalone | distributed");
    }

    @ParameterizedTest
    @ValueSource(strings = {"cloud", "Remote"})
    void invalidTemporalModeListsRemoteAmongAllowedValues(final String value) {
        assertThatThrownBy(() -> resolver(null, value, ModeResolver.TEMPORAL_KEY).temporalMode())
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining("'temporal.mode'")
                .hasMessageContaining("standalone | remote | distributed");
    }
}
