package io.compozy.cache.persistence;

import static io.compozy.cache.persistence.Standalone.call;
import static io.compozy.cache.persistence.Standalone.connect;
import static io.compozy.cache.persistence.Standalone.contents;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.adapter.CacheBackend;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ConfigLookup;
import io.compozy.cache.config.ImportSettings;
import io.compozy.cache.config.Mode;
import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import io.compozy.cache.migration.DataImport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

/**
 * A Redis copied into a new standalone server ({@value ImportSettings#STANDALONE_FROM}) when the source's
 * connection breaks in the middle: a SCAN copy cut short fails the import (never a short copy taken as whole),
 * and a replication copy broken midway falls back to SCAN only once every RESTORE it sent was answered, so
 * none lands after the flush. Real redis-servers; a loopback proxy cuts the source's connection after N bytes
 * and holds the target's replies back.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a hang fails
class StandaloneImportFaultsTest {

    @TempDir
    Path root;

    private final Deque<AutoCloseable> opened = new ArrayDeque<>();

    @AfterEach
    void closeAll() throws Exception {
        while (!opened.isEmpty()) {
            opened.pop().close();
        }
    }

    @Test
    void aScanCopyCutShortWhenTheSourceClosesTheConnectionFailsTheImport() throws Exception {
        EmbeddedRedisServer source = opened(Standalone.startPlain(root.resolve("source")));
        Map<String, Object> expected;
        try (ControlConnection redis = connect(source)) {
            fill(redis, 3000);
            expected = contents(redis);
            // A managed Redis's kind of account: everything but replication, so the copy is SCAN + DUMP.
            call(redis, "ACL", "SETUSER", "importer", "on", ">importer-secret", "~*", "&*", "+@all", "-sync", "-psync");
        }
        FaultProxy proxy = opened(FaultProxy.to(source.port()).cutFirstConnectionAfterReplyBytes(200_000));
        Map<String, String> values = standalone("cut", proxy.port());
        values.put(ImportSettings.STANDALONE_USERNAME, "importer");
        values.put(ImportSettings.STANDALONE_PASSWORD, "importer-secret");

        assertThatThrownBy(() -> Standalone.startBackend(values)).isInstanceOf(CacheBackend.BackendStartException.class)
                .hasMessageContaining("closed the connection before SCAN reached its last key")
                .hasMessageContaining("No snapshot was taken, so the next start imports again");
        assertThat(proxy.wasCut()).as("the fault happened").isTrue();

        // As promised: nothing was kept, and the next start (the source reachable again) copies every key.
        values.put(ImportSettings.STANDALONE_FROM, "redis://127.0.0.1:" + source.port());
        try (CacheBackend again = Standalone.startBackend(values);
             ControlConnection redis = connect(again.embeddedServer().orElseThrow())) {
            assertThat(contents(redis)).isEqualTo(expected);
        }
    }

    @Test
    void aReplicationCopyBrokenMidwayFallsBackToScanOnlyOnceEveryRestoreItSentWasAnswered() throws Exception {
        EmbeddedRedisServer source = opened(Standalone.startPlain(root.resolve("source")));
        Map<String, Object> expected;
        try (ControlConnection redis = connect(source)) {
            call(redis, "CONFIG", "SET", "repl-diskless-sync-delay", "0");
            fill(redis, 5000);
            expected = contents(redis);
        }
        // Cut the replication stream after about a quarter of its RDB: some RESTOREs of it have been sent.
        FaultProxy toSource = opened(FaultProxy.to(source.port()).cutFirstConnectionAfterReplyBytes(300_000));
        EmbeddedRedisServer target = opened(Standalone.startPlain(root.resolve("target")));
        FaultProxy toTarget = opened(FaultProxy.to(target.port()));
        RedissonClient client = client(toTarget.port(), target);
        opened.push(client::shutdown);
        Map<String, String> values = standalone("fallback", toSource.port());
        values.put(ImportSettings.STANDALONE_PASSWORD, source.password().reveal());
        ConfigLookup config = ConfigLookup.of(values);
        CacheSettings settings = CacheSettings.load(config);
        ImportSettings imports = ImportSettings.load(config, Mode.STANDALONE, settings.standalone().persistence());

        // The target runs the RESTOREs at once but its answers come late: only once the importer waits for them.
        toTarget.holdReplies();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread importer = new Thread(() -> {
            try {
                DataImport.intoEmbedded(imports, settings.tls(), client);
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "test-importer");
        importer.start();
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(10))
                .until(() -> waitsForReplies(importer) || !importer.isAlive());
        toTarget.releaseReplies();
        importer.join(TimeUnit.MINUTES.toMillis(5));

        assertThat(toSource.wasCut()).as("the fault happened").isTrue();
        assertThat(failure.get()).as("the import").isNull();
        try (ControlConnection redis = connect(target)) {
            assertThat(contents(redis)).isEqualTo(expected);
        }
    }

    /**
     * A source that does not check payloads deeply (Redis's default) holds a hash whose listpack header claims 6
     * entries instead of 4; the embedded server (sanitize-dump-payload yes) refuses its RESTORE, the import fails
     * naming the key, nothing of it is kept, and once the key is gone from the source the next start copies all.
     */
    @Test
    void aMalformedPayloadFromTheSourceIsRefusedNamingTheKeyAndNothingOfTheImportIsKept() throws Exception {
        EmbeddedRedisServer source = opened(Standalone.startPlain(root.resolve("source")));
        RedissonClient sourceClient = client(source.port(), source);
        opened.push(sourceClient::shutdown);
        Map<String, Object> expected;
        try (ControlConnection redis = connect(source)) {
            fill(redis, 500);
            expected = contents(redis);
            call(redis, "HSET", "h", "a", "1", "b", "2");
            call(redis, "CONFIG", "SET", "sanitize-dump-payload", "no");
        }
        byte[] dump = sourceClient.getBucket("h").dump();
        byte[] corrupt = Arrays.copyOf(dump, dump.length - 10); // type and value, without version and checksum
        assertThat(corrupt[0]).as("RDB_TYPE_HASH_LISTPACK").isEqualTo((byte) 16);
        corrupt[6] = 6; // the listpack header's element count, after the type, the length and the total size
        sourceClient.getBucket("malformed").restore(payload(corrupt));
        sourceClient.getBucket("h").delete();
        Map<String, String> values = standalone("malformed", source.port());
        values.put(ImportSettings.STANDALONE_PASSWORD, source.password().reveal());

        assertThatThrownBy(() -> Standalone.startBackend(values)).isInstanceOf(CacheBackend.BackendStartException.class)
                .hasMessageContaining("'malformed'")
                .hasMessageContaining("Bad data format")
                .hasMessageContaining("No snapshot was taken, so the next start imports again");
        assertThat(source.isAlive()).isTrue();

        sourceClient.getBucket("malformed").delete();
        try (CacheBackend again = Standalone.startBackend(values);
             ControlConnection redis = connect(again.embeddedServer().orElseThrow())) {
            assertThat(contents(redis)).isEqualTo(expected);
        }
    }

    /** A DUMP payload of {@code value} (type byte and serialized value) for Redis 7.0: RDB version 10, CRC64. */
    private static byte[] payload(final byte[] value) {
        java.nio.ByteBuffer payload = java.nio.ByteBuffer.allocate(value.length + 10)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        payload.put(value).putShort((short) 10);
        payload.putLong(com.moilioncircle.redis.replicator.util.CRC64.crc64(Arrays.copyOf(payload.array(),
                value.length + 2)));
        return payload.array();
    }

    /** Whether the thread is parked in the restorer: waiting for the target's answers to RESTOREs it sent. */
    private static boolean waitsForReplies(final Thread thread) {
        Thread.State state = thread.getState();
        return (state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING)
                && Arrays.stream(thread.getStackTrace())
                .anyMatch(frame -> frame.getClassName().equals("io.compozy.cache.migration.KeyRestorer"));
    }

    /** The "embedded server" the import fills, through the proxy; no timeouts or pings that the held replies trip. */
    private static RedissonClient client(final int port, final EmbeddedRedisServer server) {
        Config config = new Config().setNettyThreads(2);
        config.useSingleServer().setAddress("redis://127.0.0.1:" + port).setPassword(server.password().reveal())
                .setConnectionMinimumIdleSize(4).setConnectionPoolSize(4).setTimeout(600_000).setRetryAttempts(0)
                .setPingConnectionInterval(0);
        return Redisson.create(config);
    }

    /** {@code keys} strings of 400 characters that do not compress, so the copy carries about as many bytes. */
    private static void fill(final ControlConnection redis, final int keys) {
        call(redis, "EVAL", "for i = 1, " + keys + " do local v = '' for j = 1, 10 do v = v .. redis.sha1hex(i .. ':'"
                + " .. j) end redis.call('SET', 'k:' .. i, v) end", "0");
    }

    private Map<String, String> standalone(final String name, final int sourcePort) {
        return new HashMap<>(Map.of("redis.mode", "standalone",
                CacheSettings.WORK_DIR, root.resolve(name + "-work").toString(),
                PersistenceSettings.ENABLED, "true",
                PersistenceSettings.DATA_DIR, root.resolve(name + "-data").toString(),
                ImportSettings.STANDALONE_FROM, "redis://127.0.0.1:" + sourcePort));
    }

    private <T extends AutoCloseable> T opened(final T resource) {
        opened.push(resource);
        return resource;
    }
}
