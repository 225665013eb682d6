package io.compozy.cache.config;

import java.util.Objects;

/** A password or key: {@link #toString()} never shows it, so it cannot leak through a log line. */
public final class Secret {

    private final String value;

    private Secret(final String value) {
        this.value = Objects.requireNonNull(value, "value");
    }

    public static Secret of(final String value) {
        return new Secret(value);
    }

    /** The secret itself, for the one place that must hand it to Redis. */
    public String reveal() {
        return value;
    }

    @Override
    public String toString() {
        return "******";
    }
}
