package io.compozy.cache.testing;

/**
 * Test data of every type Redis 7.0 stores, for round trips: strings, hashes, lists, sets and sorted sets in
 * both their compact and their big encodings, a stream with a consumer group and a pending entry, keys with an
 * expiry an hour away and keys without.
 */
public final class EveryType {

    private EveryType() {
    }

    /** Writes the keys, all named {@code prefix...}. */
    public static void write(final RedisCommands redis, final String prefix) {
        redis.call("SET", prefix + "string", "hello");
        redis.call("SET", prefix + "number", "12345");
        redis.call("HSET", prefix + "hash", "f1", "v1", "f2", "v2");
        redis.call("RPUSH", prefix + "list", "a", "b", "c", "a");
        redis.call("SADD", prefix + "set", "x", "y", "z");
        redis.call("SADD", prefix + "intset", "1", "2", "3");
        redis.call("ZADD", prefix + "zset", "1.5", "one", "2", "two");
        redis.call("XADD", prefix + "stream", "1-1", "field", "v1");
        redis.call("XADD", prefix + "stream", "2-1", "field", "v2");
        redis.call("XGROUP", "CREATE", prefix + "stream", "group", "0");
        redis.call("XREADGROUP", "GROUP", "group", "consumer", "COUNT", "1", "STREAMS", prefix + "stream", ">");
        for (int i = 0; i < 300; i++) {
            redis.call("HSET", prefix + "bighash", "field" + i, "value" + i);
            redis.call("RPUSH", prefix + "biglist", "item" + i);
            redis.call("SADD", prefix + "bigset", "member" + i);
            redis.call("ZADD", prefix + "bigzset", Integer.toString(i), "member" + i);
        }
        redis.call("SET", prefix + "ttl:string", "stays", "PX", "3600000");
        redis.call("HSET", prefix + "ttl:hash", "f", "v");
        redis.call("PEXPIRE", prefix + "ttl:hash", "3600000");
    }
}
