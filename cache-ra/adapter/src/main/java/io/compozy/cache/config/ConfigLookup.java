package io.compozy.cache.config;

import java.util.Map;
import java.util.Optional;

/**
 * Reads one raw configuration value by its key. Blank values count as unset, as in the spec (an empty
 * {@code redis.mode} inherits the global mode).
 */
@FunctionalInterface
public interface ConfigLookup {

    Optional<String> raw(String key);

    default Optional<String> get(final String key) {
        return raw(key).map(String::trim).filter(value -> !value.isEmpty());
    }

    /** A lookup over MicroProfile Config, which also sees server.xml variables, env vars and -D. */
    static ConfigLookup microProfile(final ClassLoader classLoader) {
        var config = org.eclipse.microprofile.config.ConfigProvider.getConfig(classLoader);
        return key -> config.getOptionalValue(key, String.class);
    }

    /** A fixed map of values, for tests and tools. */
    static ConfigLookup of(final Map<String, String> values) {
        return key -> Optional.ofNullable(values.get(key));
    }
}
