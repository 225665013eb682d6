package io.compozy.cache.persistence;

import static io.compozy.cache.persistence.Standalone.call;
import static io.compozy.cache.persistence.Standalone.connect;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.api.PersistenceStatus;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What monitoring reads from persistence: the log lines, the failure streak, and never a secret. */
class SnapshotMonitoringTest {

    @TempDir
    Path root;

    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Logger logger = Logger.getLogger("io.compozy.cache");
    private final Handler capture = new Handler() {
        @Override
        public void publish(final LogRecord record) {
            records.add(record);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void captureLogs() {
        logger.addHandler(capture);
    }

    @AfterEach
    void stopCapturing() {
        logger.removeHandler(capture);
    }

    @Test
    void aSnapshotOverTheThresholdIsOneWarningLineAndOneUnderItIsNone() throws Exception {
        CacheSettings.Standalone settings = Standalone.settings(root,
                Map.of(PersistenceSettings.SLOW_SNAPSHOT_THRESHOLD, "1ms"));
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
             EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            call(redis, "SET", "k", "v");
            manager.snapshot().orElseThrow();
        }
        List<String> warnings = messages(Level.WARNING);
        assertThat(warnings).singleElement().asString()
                .startsWith("Snapshot slow: generation 1 took ")
                .contains("redis.standalone.persistence.slow_snapshot_threshold=1 ms")
                .doesNotContain("\n");
        assertThat(messages(Level.INFO)).anyMatch(line -> line.startsWith("Snapshot taken: generation 1, 1 keys, "));

        records.clear();
        CacheSettings.Standalone relaxed = Standalone.settings(root.resolve("relaxed"));
        try (SnapshotManager manager = SnapshotManager.open(relaxed.persistence());
             EmbeddedRedisServer server = manager.startServer(relaxed, Standalone.PUMP)) {
            manager.snapshot().orElseThrow();
        }
        assertThat(relaxed.persistence().slowSnapshotThreshold()).isEqualTo(Duration.ofSeconds(5));
        assertThat(messages(Level.WARNING)).isEmpty();
    }

    /**
     * A BGSAVE that Redis itself is still running (slowed down with rdb-key-save-delay) makes the
     * adapter's own BGSAVE fail: the failure streak starts, stays at its first failure, and a success ends it.
     */
    @Test
    void failingSinceMarksTheFirstFailureUntilASnapshotSucceeds() throws Exception {
        CacheSettings.Standalone settings = Standalone.settings(root);
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
             EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            manager.snapshot().orElseThrow();
            assertThat(manager.status().failingSince()).isEmpty();
            for (int i = 0; i < 20; i++) {
                call(redis, "SET", "key:" + i, "v");
            }
            call(redis, "CONFIG", "SET", "rdb-key-save-delay", "1000000"); // 1 s per key: a BGSAVE of 20 s
            call(redis, "BGSAVE");

            Instant before = Instant.now();
            assertThatThrownBy(manager::snapshot).isInstanceOf(IllegalStateException.class);
            PersistenceStatus first = manager.status();
            assertThat(first.failingSince()).hasValueSatisfying(since -> assertThat(since).isAfterOrEqualTo(before));
            assertThat(first.lastFailure()).isPresent();
            assertThat(first.snapshotsFailed()).isEqualTo(1);

            assertThatThrownBy(manager::snapshot).isInstanceOf(IllegalStateException.class);
            assertThat(manager.status().failingSince()).isEqualTo(first.failingSince());
            assertThat(manager.status().snapshotsFailed()).isEqualTo(2);

            call(redis, "CONFIG", "SET", "rdb-key-save-delay", "0");
            await().atMost(Duration.ofSeconds(60)).until(() ->
                    String.valueOf(call(redis, "INFO", "persistence")).contains("rdb_bgsave_in_progress:0"));
            manager.snapshot().orElseThrow();
            assertThat(manager.status().failingSince()).isEmpty();
            assertThat(manager.status().lastFailure()).isEmpty();
        }
    }

    @Test
    void theEncryptionKeyNeverReachesALogLine() throws Exception {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        String encoded = Base64.getEncoder().encodeToString(key);
        CacheSettings.Standalone settings = Standalone.settings(root,
                Map.of(PersistenceSettings.ENCRYPTION_KEY, encoded, PersistenceSettings.SLOW_SNAPSHOT_THRESHOLD, "1ms"));
        for (int run = 0; run < 2; run++) { // the second run restores, decrypting
            try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
                 EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
                 ControlConnection redis = connect(server)) {
                call(redis, "SET", "k" + run, "v");
                manager.snapshot().orElseThrow();
                manager.snapshotOnShutdown();
            }
        }
        assertThat(records).hasSizeGreaterThan(4);
        SimpleFormatter format = new SimpleFormatter();
        assertThat(records).allSatisfy(record -> assertThat(format.format(record))
                .doesNotContain(encoded).doesNotContain(encoded.substring(0, 16)));
    }

    private List<String> messages(final Level level) {
        return records.stream().filter(r -> r.getLevel().equals(level))
                .filter(r -> SnapshotManager.class.getName().equals(r.getLoggerName()))
                .map(LogRecord::getMessage).toList();
    }
}
