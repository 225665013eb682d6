package io.compozy.cache.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.moilioncircle.redis.replicator.rdb.dump.datatype.DumpKeyValuePair;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ConfigLookup;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.ByteArrayCodec;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.Config;

/** Copying DUMP payloads into a real redis-server: a key the target refuses is reported at once, and why. */
class KeyRestorerTest {

    @TempDir
    Path root;

    private EmbeddedRedisServer server;
    private RedissonClient client;

    @BeforeEach
    void start() throws Exception {
        server = EmbeddedRedisServer.start(CacheSettings.load(ConfigLookup.of(Map.of("redis.mode", "standalone",
                CacheSettings.WORK_DIR, root.toString()))).standalone(), task -> {
                    Thread thread = new Thread(task, "test-redis-output");
                    thread.setDaemon(true);
                    thread.start();
                });
        Config config = new Config();
        config.useSingleServer().setAddress("redis://127.0.0.1:" + server.port())
                .setPassword(server.password().reveal());
        client = Redisson.create(config);
    }

    @AfterEach
    void stop() {
        client.shutdown();
        server.close();
    }

    @Test
    void aKeyThatExistsInTheTargetStopsTheCopyAtOnceNamingBusykey() {
        client.getBucket("taken", StringCodec.INSTANCE).set("already here");
        client.getBucket("source", StringCodec.INSTANCE).set("copied value");
        byte[] payload = client.getBucket("source", ByteArrayCodec.INSTANCE).dump();

        KeyRestorer restorer = new KeyRestorer(client);
        restorer.restore(pair("fresh", payload), "RDB format 10");
        restorer.restore(pair("taken", payload), "RDB format 10");
        long start = System.nanoTime();
        assertThatThrownBy(restorer::finish).isInstanceOf(ImportFailure.class)
                .hasMessageContaining("key 'taken' could not be written").hasMessageContaining("BUSYKEY")
                .hasMessageContaining("something wrote to it during the import");
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start))
                .as("reported when the reply comes, not when the %s s wait for replies ends", 120).isLessThan(60);
        assertThat(client.getBucket("taken", StringCodec.INSTANCE).get()).as("the target's key is left as it was")
                .isEqualTo("already here");
    }

    private static DumpKeyValuePair pair(final String key, final byte[] payload) {
        DumpKeyValuePair pair = new DumpKeyValuePair();
        pair.setKey(key.getBytes(StandardCharsets.UTF_8));
        pair.setValue(payload);
        return pair;
    }
}
