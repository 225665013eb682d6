package io.compozy.cache.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses durations the way operators write them: {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h} or ISO-8601. */
public final class Durations {

    private static final Pattern SIMPLE = Pattern.compile("(\\d+)(ms|s|m|h)");

    private Durations() {
    }

    /**
     * @throws InvalidConfigurationException naming {@code key} when the value is not a duration or
     *     is not positive
     */
    public static Duration parsePositive(final String key, final String raw) {
        Duration duration = parse(key, raw);
        if (duration.isZero() || duration.isNegative()) {
            throw new InvalidConfigurationException(key, "'" + raw + "' must be greater than zero");
        }
        return duration;
    }

    static Duration parse(final String key, final String raw) {
        Matcher simple = SIMPLE.matcher(raw);
        if (simple.matches()) {
            long amount = Long.parseLong(simple.group(1));
            return switch (simple.group(2)) {
                case "ms" -> Duration.ofMillis(amount);
                case "s" -> Duration.ofSeconds(amount);
                case "m" -> Duration.ofMinutes(amount);
                default -> Duration.ofHours(amount);
            };
        }
        try {
            return Duration.parse(raw);
        } catch (DateTimeParseException e) {
            throw new InvalidConfigurationException(key, "'" + raw
                    + "' is not a duration; write for example 500ms, 30s, 5m, 1h or PT30S");
        }
    }
}
