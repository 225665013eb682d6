package io.compozy.cache.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The JCache caches the configuration declares ({@value #CACHES}): every CacheManager the adapter hands
 * out has them from the start, so applications {@code getCache(name)} without creating them first.
 *
 * <p>Syntax: comma-separated entries, each {@code name} (entries never expire), {@code name=<duration>}
 * (expire that long after they are created) or {@code name=<policy>:<duration>} with policy
 * {@code created}, {@code accessed}, {@code modified} or {@code touched} (JSR-107's expiry policies).
 * Example: {@code products=10m, prices=accessed:30s, countries}.
 *
 * <p>{@value #ALLOWED_CLASSES} names, as JEP 290 patterns separated by {@code ;} (for example
 * {@code com.example.shop.*;com.example.Price}), the application classes JCache values may be read back
 * as, besides the JDK's value types; every other class is refused before it is instantiated.
 *
 * @param caches the declared caches, in the order written
 * @param allowedClasses the operator's JEP 290 patterns, checked; empty for the JDK's value types only
 */
public record JCacheSettings(List<DeclaredCache> caches, String allowedClasses) {

    public static final String CACHES = "compozy.jcache.caches";
    public static final String ALLOWED_CLASSES = "compozy.jcache.allowed_classes";

    /** Declared caches, and values of the JDK's value types only. */
    public JCacheSettings(final List<DeclaredCache> caches) {
        this(caches, "");
    }

    /** Names a cache may have when declared in configuration (code may use any name). */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

    /** JSR-107's expiry policies, as written in {@value #CACHES}. */
    public enum Expiry { ETERNAL, CREATED, ACCESSED, MODIFIED, TOUCHED }

    /**
     * One declared cache.
     *
     * @param name the cache name
     * @param expiry which JSR-107 expiry policy applies
     * @param duration how long after that event an entry expires; empty when eternal
     */
    public record DeclaredCache(String name, Expiry expiry, Optional<Duration> duration) {
    }

    /** @throws InvalidConfigurationException naming {@value #CACHES} and the entry that is wrong */
    public static JCacheSettings load(final ConfigLookup config) {
        return new JCacheSettings(parse(config.get(CACHES).orElse("")).caches(),
                allowedClasses(config.get(ALLOWED_CLASSES).orElse("")));
    }

    /** @throws InvalidConfigurationException naming {@value #ALLOWED_CLASSES} when the JDK cannot read a pattern */
    static String allowedClasses(final String raw) {
        String patterns = raw.strip();
        if (patterns.isEmpty()) {
            return "";
        }
        try {
            java.io.ObjectInputFilter.Config.createFilter(patterns);
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigurationException(ALLOWED_CLASSES, "'" + patterns + "' is not a JEP 290 filter: "
                    + e.getMessage() + " (class or package patterns such as com.example.shop.* or com.example.Price,"
                    + " separated by ';')");
        }
        return patterns;
    }

    static JCacheSettings parse(final String raw) {
        List<DeclaredCache> caches = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (String entry : raw.split(",")) {
            String trimmed = entry.trim();
            if (trimmed.isEmpty()) {
                continue;
            }
            DeclaredCache cache = entry(trimmed);
            if (!names.add(cache.name())) {
                throw new InvalidConfigurationException(CACHES, "the cache '" + cache.name() + "' is declared twice");
            }
            caches.add(cache);
        }
        return new JCacheSettings(List.copyOf(caches));
    }

    private static DeclaredCache entry(final String entry) {
        int equals = entry.indexOf('=');
        String name = (equals < 0 ? entry : entry.substring(0, equals)).trim();
        if (!NAME.matcher(name).matches()) {
            throw new InvalidConfigurationException(CACHES, "'" + name + "' is not a cache name: letters, digits,"
                    + " '.', '_' and '-', starting with a letter or digit (entries are name, name=<duration> or"
                    + " name=<policy>:<duration>, separated by commas)");
        }
        if (equals < 0) {
            return new DeclaredCache(name, Expiry.ETERNAL, Optional.empty());
        }
        String expiry = entry.substring(equals + 1).trim();
        Expiry policy = Expiry.CREATED;
        int colon = expiry.indexOf(':');
        if (colon >= 0) {
            String word = expiry.substring(0, colon).trim();
            policy = switch (word) {
                case "created" -> Expiry.CREATED;
                case "accessed" -> Expiry.ACCESSED;
                case "modified" -> Expiry.MODIFIED;
                case "touched" -> Expiry.TOUCHED;
                default -> throw new InvalidConfigurationException(CACHES, "cache '" + name + "': '" + word
                        + "' is not an expiry policy; allowed: created | accessed | modified | touched");
            };
            expiry = expiry.substring(colon + 1).trim();
        }
        Duration duration = Durations.parsePositive(CACHES + " (cache '" + name + "')", expiry);
        return new DeclaredCache(name, policy, Optional.of(duration));
    }
}
