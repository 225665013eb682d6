package io.compozy.cache.persistence;

import static io.compozy.cache.persistence.Standalone.call;
import static io.compozy.cache.persistence.Standalone.connect;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sleepycat.je.DatabaseEntry;
import io.compozy.cache.api.PersistenceStatus;
import io.compozy.cache.api.SnapshotInfo;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Damaged stores: a fallback to an older generation or a clear error, never an empty server claiming success. */
class SnapshotRecoveryTest {

    @TempDir
    Path root;
    CacheSettings.Standalone settings;

    @BeforeEach
    void twoGenerations() throws Exception {
        settings = Standalone.settings(root);
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
             EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            // Random values (incompressible) make the chunks most of the store's bytes.
            String blob = randomText(2_000);
            for (int i = 0; i < 1_500; i++) {
                call(redis, "SET", "blob:" + i, blob + i);
            }
            call(redis, "SET", "version", "first");
            manager.snapshot().orElseThrow();
            call(redis, "SET", "version", "second");
            manager.snapshot().orElseThrow();
        }
    }

    @Test
    void aCorruptNewestGenerationFallsBackToThePreviousOne() throws Exception {
        try (SnapshotStore store = SnapshotStore.open(root.resolve("data"), Optional.empty())) {
            // Same length, other bytes: only the checksum can tell.
            byte[] garbage = new byte[SnapshotStore.CHUNK_BYTES];
            new Random(1).nextBytes(garbage);
            store.chunksDatabase().put(null, new DatabaseEntry(SnapshotStore.chunkKey(2, 0)), new DatabaseEntry(garbage));
        }
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
             EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            assertThat(call(redis, "GET", "version")).isEqualTo("first");
            assertThat(Standalone.dbsize(redis)).isEqualTo(1_501);
            PersistenceStatus status = manager.status();
            assertThat(status.restoredGeneration()).map(SnapshotInfo::generation).contains(1L);
            assertThat(status.generationsSkippedOnRestore()).isEqualTo(1);
            // The corrupt generation is kept for inspection; the next snapshot is generation 3.
            assertThat(manager.snapshot().orElseThrow().generation()).isEqualTo(3);
        }
    }

    @Test
    void aGenerationRedisRefusesFallsBackAndNoValidGenerationIsAClearError() throws Exception {
        Path junk = root.resolve("junk.rdb");
        Files.writeString(junk, "this is not an RDB file");
        try (SnapshotStore store = SnapshotStore.open(root.resolve("data"), Optional.empty())) {
            // Checksum right, content wrong: Redis itself must refuse it.
            store.write(junk, Instant.now(), 1, "7.0.15", System.nanoTime());
        }
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
             EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            assertThat(call(redis, "GET", "version")).isEqualTo("second");
            assertThat(manager.status().generationsSkippedOnRestore()).isEqualTo(1);
        }

        CacheSettings.Standalone onlyJunk = Standalone.settings(root.resolve("other"));
        try (SnapshotStore store = SnapshotStore.open(root.resolve("other/data"), Optional.empty())) {
            store.write(junk, Instant.now(), 1, "7.0.15", System.nanoTime());
        }
        try (SnapshotManager manager = SnapshotManager.open(onlyJunk.persistence())) {
            assertThatThrownBy(() -> manager.startServer(onlyJunk, Standalone.PUMP))
                    .isInstanceOf(PersistenceException.class)
                    .hasMessageContaining("None of the 1 snapshot generation(s)")
                    .hasMessageContaining("redis-server did not start with it")
                    .hasMessageContaining(PersistenceSettings.RESTORE_ON_STARTUP + "=false");
        }
    }

    @Test
    void aTruncatedStoreFileGivesAnOlderGenerationOrAClearErrorNeverAnEmptyServer() throws Exception {
        Path last = logFiles().get(logFiles().size() - 1);
        long size = Files.size(last);
        try (RandomAccessFile file = new RandomAccessFile(last.toFile(), "rw")) {
            file.setLength(size * 2 / 3);
        }
        assertRestoresAGenerationOrFailsClearly();
    }

    @Test
    void garbledStoreBytesGiveAnOlderGenerationOrAClearErrorNeverAnEmptyServer() throws Exception {
        for (Path file : logFiles()) {
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                byte[] noise = new byte[64 * 1024];
                new Random(7).nextBytes(noise);
                raf.seek(raf.length() / 2);
                raf.write(noise, 0, (int) Math.min(noise.length, raf.length() / 4));
            }
        }
        assertRestoresAGenerationOrFailsClearly();
    }

    @Test
    void aSecondServerOnTheSameDataDirFailsClearly() throws Exception {
        try (SnapshotManager first = SnapshotManager.open(settings.persistence())) {
            // In this JVM (JE would silently share the environment) ...
            assertThatThrownBy(() -> SnapshotManager.open(settings.persistence()))
                    .isInstanceOf(PersistenceException.class)
                    .hasMessageContaining("is in use by another server")
                    .hasMessageContaining(PersistenceSettings.DATA_DIR);
            // ... and from another process (JE's own lock file).
            Process other = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), OpenStoreMain.class.getName(),
                    root.resolve("data").toString())
                    .redirectErrorStream(true).start();
            assertThat(other.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String output = new String(other.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(other.exitValue()).as(output).isEqualTo(OpenStoreMain.IN_USE);
            assertThat(output).contains("is in use by another server (its lock file je.lck is held)");
        }
        // Once the first one is gone, the directory opens again.
        SnapshotManager.open(settings.persistence()).close();
    }

    private void assertRestoresAGenerationOrFailsClearly() {
        SnapshotManager manager;
        try {
            manager = SnapshotManager.open(settings.persistence());
        } catch (PersistenceException e) {
            assertThat(e).hasMessageContaining(root.resolve("data").toString());
            return;
        }
        try (manager) {
            EmbeddedRedisServer server;
            try {
                server = manager.startServer(settings, Standalone.PUMP);
            } catch (PersistenceException e) {
                // Generations existed, so starting empty would lose data silently: it must say so instead.
                assertThat(e).hasMessageContaining(PersistenceSettings.RESTORE_ON_STARTUP + "=false")
                        .hasMessageContaining("docs/persistence.md");
                return;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            try (server; ControlConnection redis = connect(server)) {
                assertThat(call(redis, "GET", "version")).isIn("first", "second");
                assertThat(Standalone.dbsize(redis)).isEqualTo(1_501);
            }
        }
    }

    private List<Path> logFiles() throws Exception {
        try (Stream<Path> files = Files.list(root.resolve("data"))) {
            return files.filter(f -> f.getFileName().toString().endsWith(".jdb")).sorted().toList();
        }
    }

    private static String randomText(final int length) {
        Random random = new Random(42);
        StringBuilder text = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            text.append((char) ('!' + random.nextInt(90)));
        }
        return text.toString();
    }
}
