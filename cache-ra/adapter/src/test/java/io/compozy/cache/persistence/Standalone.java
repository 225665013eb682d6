package io.compozy.cache.persistence;

import io.compozy.cache.adapter.CacheBackend;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ConfigLookup;
import io.compozy.cache.config.ImportSettings;
import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Executor;
import org.redisson.client.protocol.RedisCommand;
import org.redisson.client.protocol.RedisCommands;

/** Real standalone parts for the tests: settings in a temp dir, the embedded server, raw command access. */
final class Standalone {

    /** The key in which an import into an external Redis keeps its record (docs/migration.md). */
    static final String IMPORT_MARKER = "__compozy_internal__:import";

    static final Executor PUMP = task -> {
        Thread thread = new Thread(task, "test-redis-output");
        thread.setDaemon(true);
        thread.start();
    };

    private Standalone() {
    }

    /** Standalone settings with persistence on in {@code root/data}; {@code extra} adds or overrides keys. */
    static CacheSettings.Standalone settings(final Path root, final Map<String, String> extra) {
        Map<String, String> values = new HashMap<>(Map.of(
                "redis.mode", "standalone",
                CacheSettings.WORK_DIR, root.resolve("work").toString(),
                PersistenceSettings.ENABLED, "true",
                PersistenceSettings.DATA_DIR, root.resolve("data").toString()));
        values.putAll(extra);
        return CacheSettings.load(ConfigLookup.of(values)).standalone();
    }

    /** Starts a backend as the adapter does, from configuration values alone (either mode, imports included). */
    static CacheBackend startBackend(final Map<String, String> values) {
        ConfigLookup config = ConfigLookup.of(values);
        CacheSettings settings = CacheSettings.load(config);
        return CacheBackend.start(settings, ImportSettings.load(config, settings.mode(),
                settings.standalone().persistence()), PUMP);
    }

    static CacheSettings.Standalone settings(final Path root) {
        return settings(root, Map.of());
    }

    static ControlConnection connect(final EmbeddedRedisServer server) {
        try {
            return ControlConnection.open(server.host(), server.port(), server.password());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A command whose reply stays as Redis sent it: String, Long, List or null. */
    static RedisCommand<Object> raw(final String name) {
        return new RedisCommand<>(name);
    }

    /** Runs one command, unchecked. */
    static Object call(final ControlConnection redis, final String... command) {
        try {
            return redis.sync(raw(command[0]), (Object[]) Arrays.copyOfRange(command, 1, command.length));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static long dbsize(final ControlConnection redis) {
        return (Long) call(redis, "DBSIZE");
    }

    /** A redis-server of its own (as an external Redis), no persistence, in {@code workDir}; the caller closes it. */
    static EmbeddedRedisServer startPlain(final Path workDir) throws IOException {
        return EmbeddedRedisServer.start(CacheSettings.load(ConfigLookup.of(Map.of("redis.mode", "standalone",
                CacheSettings.WORK_DIR, workDir.toString()))).standalone(), PUMP);
    }

    /** Starts a server on exactly this generation of a store (bypassing the newest-first choice). */
    static EmbeddedRedisServer startOn(final SnapshotStore store, final StoredGeneration generation,
                                       final CacheSettings.Standalone settings) throws IOException {
        return EmbeddedRedisServer.start(settings, PUMP, Optional.of(file -> store.read(generation, file)));
    }

    /**
     * Every key with its type and full content (streams with their consumer groups), for comparing two
     * servers; without the {@link #IMPORT_MARKER}, which describes a server, not its data. TTLs are compared
     * separately, since they tick.
     */
    @SuppressWarnings("unchecked")
    static Map<String, Object> contents(final ControlConnection redis) {
        Map<String, Object> all = new TreeMap<>();
        for (String name : dataKeys(redis)) {
            String type = (String) call(redis, "TYPE", name);
            Object value = switch (type) {
                case "string" -> call(redis, "GET", name);
                case "hash" -> new TreeMap<>(pairs((List<Object>) call(redis, "HGETALL", name)));
                case "list" -> call(redis, "LRANGE", name, "0", "-1");
                case "set" -> new java.util.TreeSet<>(strings(call(redis, "SMEMBERS", name)));
                case "zset" -> call(redis, "ZRANGE", name, "0", "-1", "WITHSCORES");
                case "stream" -> List.of(call(redis, "XRANGE", name, "-", "+"),
                        call(redis, "XINFO", "GROUPS", name));
                default -> "?";
            };
            all.put(name, type + "=" + value);
        }
        return all;
    }

    /**
     * Writes every data type Redis 7.0 stores: strings, hashes, lists, sets and sorted sets in both their
     * compact and their big encodings, a stream with a consumer group and a pending entry, keys with an
     * expiry in an hour and keys without. Key names start with {@code prefix}.
     */
    static void fillEveryType(final ControlConnection redis, final String prefix) {
        call(redis, "SET", prefix + "string", "hello");
        call(redis, "SET", prefix + "number", "12345");
        call(redis, "HSET", prefix + "hash", "f1", "v1", "f2", "v2");
        call(redis, "RPUSH", prefix + "list", "a", "b", "c", "a");
        call(redis, "SADD", prefix + "set", "x", "y", "z");
        call(redis, "SADD", prefix + "intset", "1", "2", "3");
        call(redis, "ZADD", prefix + "zset", "1.5", "one", "2", "two");
        call(redis, "XADD", prefix + "stream", "1-1", "field", "v1");
        call(redis, "XADD", prefix + "stream", "2-1", "field", "v2");
        call(redis, "XGROUP", "CREATE", prefix + "stream", "group", "0");
        call(redis, "XREADGROUP", "GROUP", "group", "consumer", "COUNT", "1", "STREAMS", prefix + "stream", ">");
        for (int i = 0; i < 300; i++) { // big enough for Redis's non-compact encodings
            call(redis, "HSET", prefix + "bighash", "field" + i, "value" + i);
            call(redis, "RPUSH", prefix + "biglist", "item" + i);
            call(redis, "SADD", prefix + "bigset", "member" + i);
            call(redis, "ZADD", prefix + "bigzset", Integer.toString(i), "member" + i);
        }
        call(redis, "SET", prefix + "ttl:string", "stays", "PX", "3600000");
        call(redis, "HSET", prefix + "ttl:hash", "f", "v");
        call(redis, "PEXPIRE", prefix + "ttl:hash", "3600000");
    }

    /** Every key's absolute expiry in Unix ms (PEXPIRETIME: -1 without one), which does not tick. */
    static Map<String, Long> expiries(final ControlConnection redis) {
        Map<String, Long> all = new TreeMap<>();
        for (String key : dataKeys(redis)) {
            all.put(key, (Long) call(redis, "PEXPIRETIME", key));
        }
        return all;
    }

    /** Every key but the {@link #IMPORT_MARKER}. */
    static List<String> dataKeys(final ControlConnection redis) {
        return strings(call(redis, "KEYS", "*")).stream().filter(key -> !IMPORT_MARKER.equals(key)).toList();
    }

    private static Map<String, Object> pairs(final List<Object> flat) {
        Map<String, Object> map = new TreeMap<>();
        for (int i = 0; i + 1 < flat.size(); i += 2) {
            map.put((String) flat.get(i), flat.get(i + 1));
        }
        return map;
    }

    /** {@code INFO persistence} of a server, parsed. */
    static Map<String, String> persistenceInfo(final ControlConnection redis) {
        try {
            return redis.sync(RedisCommands.INFO_PERSISTENCE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<String> strings(final Object reply) {
        List<String> out = new ArrayList<>();
        for (Object item : (List<?>) reply) {
            out.add(String.valueOf(item));
        }
        return out;
    }
}
