package io.compozy.cache.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RedisAddressTest {

    @Test
    void parsesAFullUri() {
        RedisAddress address = RedisAddress.parse("redis.addr", "redis://cache.internal:6380/3");
        assertThat(address.host()).isEqualTo("cache.internal");
        assertThat(address.port()).isEqualTo(6380);
        assertThat(address.database()).isEqualTo(3);
        assertThat(address.tls()).isFalse();
        assertThat(address.redissonUri()).isEqualTo("redis://cache.internal:6380");
    }

    @Test
    void acceptsTheSpecsBareHostAndPortAndTls() {
        assertThat(RedisAddress.parse("redis.addr", "localhost:6379").redissonUri()).isEqualTo("redis://localhost:6379");
        RedisAddress tls = RedisAddress.parse("redis.addr", "rediss://secure.example");
        assertThat(tls.tls()).isTrue();
        assertThat(tls.port()).isEqualTo(RedisAddress.DEFAULT_PORT);
    }

    @Test
    void takesCredentialsFromTheUriButNeverShowsThem() {
        RedisAddress address = RedisAddress.parse("redis.addr", "redis://app:s3cret-pw@db:6379/1");
        assertThat(address.username()).contains("app");
        assertThat(address.password()).get().extracting(Secret::reveal).isEqualTo("s3cret-pw");
        assertThat(address.toString()).doesNotContain("s3cret-pw").isEqualTo("redis://db:6379/1");
        assertThat(address.redissonUri()).doesNotContain("s3cret-pw");
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://host:6379", "redis://:6379", "redis://host:99999", "redis://host:6379/abc",
            "redis://host:6379/-1", "redis://ho st:6379", "redis://host:6379/0?timeout=1"})
    void rejectsMalformedAddressesNamingTheKey(final String raw) {
        assertThatThrownBy(() -> RedisAddress.parse("redis.addr", raw))
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessageStartingWith("Invalid configuration 'redis.addr'")
                .hasMessageContaining("redis://host:port/db");
    }

    @Test
    void errorsMaskThePasswordOfAMalformedUri() {
        assertThatThrownBy(() -> RedisAddress.parse("redis.addr", "http://user:topsecret@host:1"))
                .hasMessageNotContaining("topsecret")
                .hasMessageContaining("******");
    }
}
