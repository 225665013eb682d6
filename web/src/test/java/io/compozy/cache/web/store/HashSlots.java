package io.compozy.cache.web.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.redisson.api.RedissonClient;

/**
 * Which part of a key Redis Cluster hashes, as the Cluster specification ("Hash tags") defines it: what stands
 * between the first {@code {} and the next {@code }}, unless that is empty or missing, when the whole key is
 * hashed. Checked against the server's own CLUSTER KEYSLOT when the backend is a Cluster.
 */
final class HashSlots {

    private HashSlots() {
    }

    /** The hash tag of {@code key}, or null when it has none (an empty {@code {}} is none). */
    static String tagOf(final String key) {
        int open = key.indexOf('{');
        int close = open < 0 ? -1 : key.indexOf('}', open + 1);
        return close > open + 1 ? key.substring(open + 1, close) : null;
    }

    /** Every key has the same non-empty hash tag, so a script, MULTI or DEL over them runs on Cluster. */
    static void assertOneTag(final RedissonClient redis, final String... keys) {
        assertThat(Arrays.stream(keys).map(HashSlots::tagOf)).as("hash tags of %s", Arrays.toString(keys))
                .doesNotContainNull().containsOnly(tagOf(keys[0]));
        if (redis.getConfig().isClusterConfig()) {
            assertThat(Arrays.stream(keys).map(k -> redis.getKeys().getSlot(k))).as("CLUSTER KEYSLOT of %s",
                    Arrays.toString(keys)).containsOnly(redis.getKeys().getSlot(keys[0]));
        }
    }
}
