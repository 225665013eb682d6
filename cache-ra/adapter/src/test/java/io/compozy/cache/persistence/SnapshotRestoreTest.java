package io.compozy.cache.persistence;

import static io.compozy.cache.persistence.Standalone.call;
import static io.compozy.cache.persistence.Standalone.connect;
import static io.compozy.cache.persistence.Standalone.contents;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.api.PersistenceStatus;
import io.compozy.cache.api.SnapshotInfo;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Snapshot, stop, restore: what users rely on across a restart of the embedded server. */
class SnapshotRestoreTest {

    @TempDir
    Path root;

    @Test
    void everyTypeAndTtlSurvivesAndKeysThatExpiredWhileDownStayGone() throws Exception {
        CacheSettings.Standalone settings = Standalone.settings(root);
        Map<String, Object> before;
        long shortExpiresAt;
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence())) {
            EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
            try (ControlConnection redis = connect(server)) {
                call(redis, "SET", "string", "hello");
                call(redis, "HSET", "hash", "f1", "v1", "f2", "v2");
                call(redis, "RPUSH", "list", "a", "b", "c", "a");
                call(redis, "SADD", "set", "x", "y", "z");
                call(redis, "ZADD", "zset", "1.5", "one", "2", "two");
                call(redis, "XADD", "stream", "1-1", "field", "v1");
                call(redis, "XADD", "stream", "2-1", "field", "v2");
                call(redis, "XGROUP", "CREATE", "stream", "group", "0");
                call(redis, "XREADGROUP", "GROUP", "group", "consumer", "COUNT", "1", "STREAMS", "stream", ">");
                for (int i = 0; i < 1_000; i++) { // big enough for Redis's non-compact encodings
                    call(redis, "HSET", "bighash", "field" + i, "value" + i);
                    call(redis, "RPUSH", "biglist", "item" + i);
                    call(redis, "ZADD", "bigzset", Integer.toString(i), "member" + i);
                }
                call(redis, "SET", "ttl:long", "stays", "PX", "3600000");
                call(redis, "HSET", "ttl:hash", "f", "v");
                call(redis, "PEXPIRE", "ttl:hash", "3600000");
                // Alive at both snapshots below (taken within a second or two: 5 s leaves a loaded machine
                // its margin), expired before the restore: loading must drop it (rdb_last_load_keys_expired).
                call(redis, "SET", "ttl:short", "goes", "PX", "5000");
                shortExpiresAt = System.currentTimeMillis() + 5000;
                before = contents(redis);
                before.remove("ttl:short");
                long keys = Standalone.dbsize(redis);

                SnapshotInfo info = manager.snapshot().orElseThrow();
                assertThat(info.generation()).isEqualTo(1);
                assertThat(info.keys()).isEqualTo(keys);
                assertThat(info.bytes()).isPositive();
                assertThat(info.redisVersion()).startsWith("7.");
                assertThat(info.sha256()).hasSize(64);
                assertThat(manager.generations()).extracting(SnapshotInfo::generation).containsExactly(1L);
            }
            // The adapter's stop order: final snapshot, server, store.
            manager.snapshotOnShutdown();
            server.close();
            assertThat(manager.status().lastSnapshot()).map(SnapshotInfo::generation).contains(2L);
        }
        assertPrivate(root.resolve("data"));
        await().atMost(Duration.ofSeconds(10)).until(() -> System.currentTimeMillis() > shortExpiresAt + 10);

        try (SnapshotManager manager = SnapshotManager.open(settings.persistence())) {
            try (EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
                 ControlConnection redis = connect(server)) {
                assertThat(contents(redis)).isEqualTo(before);
                assertThat((Long) call(redis, "EXISTS", "ttl:short")).isZero();
                assertThat((Long) call(redis, "PTTL", "ttl:long")).isBetween(3_500_000L, 3_600_000L);
                assertThat((Long) call(redis, "PTTL", "ttl:hash")).isBetween(3_500_000L, 3_600_000L);
                assertThat((Long) call(redis, "PTTL", "string")).isEqualTo(-1L);
                assertThat(Standalone.persistenceInfo(redis).get("rdb_last_load_keys_expired")).isEqualTo("1");
                PersistenceStatus status = manager.status();
                assertThat(status.restoredGeneration()).map(SnapshotInfo::generation).contains(2L);
                assertThat(status.generationsSkippedOnRestore()).isZero();
                // The RDB handed to Redis is gone once loaded: the store holds the only copy on disk.
                assertThat(server.rdbFile()).doesNotExist();
            }
        }
    }

    @Test
    void retainKeepsTheNewestGenerationsOnly() throws Exception {
        CacheSettings.Standalone settings = Standalone.settings(root, Map.of(PersistenceSettings.RETAIN, "2"));
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
             EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            for (int i = 1; i <= 4; i++) {
                call(redis, "SET", "counter", Integer.toString(i));
                manager.snapshot().orElseThrow();
            }
            assertThat(manager.generations()).extracting(SnapshotInfo::generation).containsExactly(4L, 3L);
            assertThat(manager.status().snapshotsTaken()).isEqualTo(4);
        }
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
             EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            assertThat(call(redis, "GET", "counter")).isEqualTo("4");
            // Numbering continues after a restart: generation 5, never a reused number.
            assertThat(manager.snapshot().orElseThrow().generation()).isEqualTo(5);
        }
    }

    @Test
    void restoreOnStartupFalseStartsEmptyAndKeepsTheStore() throws Exception {
        CacheSettings.Standalone settings = Standalone.settings(root);
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
             EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            call(redis, "SET", "k", "v");
            manager.snapshot().orElseThrow();
        }
        CacheSettings.Standalone noRestore = Standalone.settings(root,
                Map.of(PersistenceSettings.RESTORE_ON_STARTUP, "false"));
        try (SnapshotManager manager = SnapshotManager.open(noRestore.persistence());
             EmbeddedRedisServer server = manager.startServer(noRestore, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            assertThat(Standalone.dbsize(redis)).isZero();
            assertThat(manager.generations()).hasSize(1);
        }
    }

    @Test
    void encryptedSnapshotsRoundTripAndAWrongOrMissingKeyIsAClearError() throws Exception {
        String key = randomKey();
        CacheSettings.Standalone encrypted = Standalone.settings(root,
                Map.of(PersistenceSettings.ENCRYPTION_KEY, key));
        String secretValue = "plain-text-that-must-not-reach-the-disk";
        try (SnapshotManager manager = SnapshotManager.open(encrypted.persistence());
             EmbeddedRedisServer server = manager.startServer(encrypted, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            call(redis, "SET", "secret", secretValue);
            assertThat(manager.snapshot().orElseThrow().encrypted()).isTrue();
        }
        assertThat(anyFileContains(root.resolve("data"), secretValue)).isFalse();

        try (SnapshotManager manager = SnapshotManager.open(encrypted.persistence());
             EmbeddedRedisServer server = manager.startServer(encrypted, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            assertThat(call(redis, "GET", "secret")).isEqualTo(secretValue);
        }

        String wrongKey = randomKey();
        CacheSettings.Standalone wrong = Standalone.settings(root, Map.of(PersistenceSettings.ENCRYPTION_KEY, wrongKey));
        try (SnapshotManager manager = SnapshotManager.open(wrong.persistence())) {
            assertThatThrownBy(() -> manager.startServer(wrong, Standalone.PUMP))
                    .isInstanceOf(PersistenceException.class)
                    .hasMessageContaining(PersistenceSettings.ENCRYPTION_KEY + " does not match")
                    .message().doesNotContain(wrongKey).doesNotContain(key);
        }
        CacheSettings.Standalone none = Standalone.settings(root);
        try (SnapshotManager manager = SnapshotManager.open(none.persistence())) {
            assertThatThrownBy(() -> manager.startServer(none, Standalone.PUMP))
                    .isInstanceOf(PersistenceException.class)
                    .hasMessageContaining("is encrypted but " + PersistenceSettings.ENCRYPTION_KEY + " is not set");
        }
        // The failed starts changed nothing: the right key still restores.
        try (SnapshotManager manager = SnapshotManager.open(encrypted.persistence());
             EmbeddedRedisServer server = manager.startServer(encrypted, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            assertThat(call(redis, "GET", "secret")).isEqualTo(secretValue);
        }
    }

    @Test
    void unencryptedSnapshotsHoldThePlainRdb() throws Exception {
        // The counterpart of the encryption test: proves the disk scan above can find a value.
        CacheSettings.Standalone settings = Standalone.settings(root);
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
             EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            call(redis, "SET", "visible", "plain-text-visible-on-disk");
            assertThat(manager.snapshot().orElseThrow().encrypted()).isFalse();
        }
        assertThat(anyFileContains(root.resolve("data"), "plain-text-visible-on-disk")).isTrue();
    }

    static String randomKey() {
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        return Base64.getEncoder().encodeToString(bytes);
    }

    private static boolean anyFileContains(final Path dir, final String text) throws Exception {
        byte[] needle = text.getBytes(StandardCharsets.UTF_8);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                byte[] bytes = Files.readAllBytes(file);
                for (int i = 0; i + needle.length <= bytes.length; i++) {
                    if (java.util.Arrays.equals(bytes, i, i + needle.length, needle, 0, needle.length)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static void assertPrivate(final Path dataDir) throws Exception {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dataDir))).isEqualTo("rwx------");
        List<Path> files;
        try (Stream<Path> list = Files.list(dataDir)) {
            files = list.filter(Files::isRegularFile).toList();
        }
        assertThat(files).isNotEmpty();
        for (Path file : files) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
                    .as(file.toString()).isEqualTo("rw-------");
        }
    }
}
