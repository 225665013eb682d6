package io.compozy.cache.config;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The deployment model of a component, as in the spec: embedded services or external ones. */
public enum Mode {
    /** Embedded services in one process: for the cache, a redis-server the adapter runs. */
    STANDALONE("standalone"),
    /** External services: for the cache, a Redis the operator runs. The spec's default. */
    DISTRIBUTED("distributed");

    private final String value;

    Mode(final String value) {
        this.value = value;
    }

    /** The value as written in configuration. */
    public String value() {
        return value;
    }

    /** The allowed values, for error messages: {@code standalone | distributed}. */
    public static String allowedValues() {
        return Arrays.stream(values()).map(Mode::value).collect(Collectors.joining(" | "));
    }

    /**
     * Parses a configured value exactly (no case folding, as the spec validates with
     * {@code oneof=standalone distributed}).
     *
     * @throws InvalidConfigurationException naming {@code key} and the allowed values
     */
    public static Mode parse(final String key, final String raw) {
        return parse(key, raw, allowedValues());
    }

    static Mode parse(final String key, final String raw, final String allowed) {
        for (Mode mode : values()) {
            if (mode.value.equals(raw)) {
                return mode;
            }
        }
        throw new InvalidConfigurationException(key,
                "'" + raw + "' is not a mode; allowed values: " + allowed);
    }

    @Override
    public String toString() {
        return value;
    }
}
