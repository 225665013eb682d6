package io.compozy.cache.persistence;

import static io.compozy.cache.persistence.Standalone.call;
import static io.compozy.cache.persistence.Standalone.connect;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sleepycat.je.DatabaseEntry;
import com.sleepycat.je.Environment;
import com.sleepycat.je.EnvironmentConfig;
import io.compozy.cache.api.PersistenceStatus;
import io.compozy.cache.api.SnapshotInfo;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import java.io.RandomAccessFile;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
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
            byte[] garbage = new byte[GenerationFormat.CHUNK_BYTES];
            new Random(1).nextBytes(garbage);
            store.chunksDatabase().put(null, new DatabaseEntry(GenerationFormat.chunkKey(2, 0)), new DatabaseEntry(garbage));
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
    void aTruncatedStoreFileFallsBackToTheOlderGeneration() throws Exception {
        Path last = logFiles().get(logFiles().size() - 1);
        long size = Files.size(last);
        try (RandomAccessFile file = new RandomAccessFile(last.toFile(), "rw")) {
            file.setLength(size * 2 / 3);
        }
        // The cut takes the newest generation's chunks: the start falls back to the older one, and says so.
        assertThat(startOutcome()).isEqualTo("restored generation 1: version=first, keys=1501, skipped=1");
    }

    @Test
    void garbledBytesInEveryFileRefuseTheStartClearlyNeverAnEmptyServer() throws Exception {
        for (Path file : logFiles()) {
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                byte[] noise = new byte[64 * 1024];
                new Random(7).nextBytes(noise);
                raf.seek(raf.length() / 2);
                raf.write(noise, 0, (int) Math.min(noise.length, raf.length() / 4));
            }
        }
        // Noise in every file damages both generations: nothing valid is left, so the start is refused,
        // saying what to do, rather than serving damaged data or an empty server.
        assertThat(startOutcome()).startsWith("refused: Cannot restore from " + root.resolve("data").toRealPath())
                .contains("generation 2 was committed but can no longer be read and no older generation remains",
                        PersistenceSettings.RESTORE_ON_STARTUP + "=false", "docs/persistence.md");
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

    @Test
    void aNewInstanceWaitsForThePreviousOneInThisJvmWithoutLeakingThreads() throws Exception {
        // The previous adapter instance of a replaced RAR, still closing: JE's lock held by this JVM, through
        // JE classes of another class loader (in one loader JE would share the environment instead).
        URL jeJar = Environment.class.getProtectionDomain().getCodeSource().getLocation();
        URLClassLoader previousRar = new URLClassLoader(new URL[] {jeJar}, ClassLoader.getPlatformClassLoader());
        Class<?> configClass = previousRar.loadClass(EnvironmentConfig.class.getName());
        Object config = configClass.getConstructor().newInstance();
        configClass.getMethod("setTransactional", boolean.class).invoke(config, true);
        Object previous = previousRar.loadClass(Environment.class.getName())
                .getConstructor(java.io.File.class, configClass).newInstance(root.resolve("data").toFile(), config);
        long timersBefore = timerThreads();
        CompletableFuture<SnapshotStore> next = CompletableFuture.supplyAsync(
                () -> SnapshotStore.open(root.resolve("data"), Optional.empty()));
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).until(() -> !next.isDone());
        previous.getClass().getMethod("close").invoke(previous);
        previousRar.close();
        try (SnapshotStore store = next.get(60, TimeUnit.SECONDS)) {
            assertThat(store.generations()).hasSize(2);
            // JE starts a java.util.Timer per environment and leaks it when the open fails on the lock:
            // waiting must not try (and fail) again and again.
            await("Timer threads back to one, the open store's").atMost(Duration.ofSeconds(10))
                    .until(SnapshotRecoveryTest::timerThreads, n -> n == timersBefore);
        }
    }

    /** What a start on the damaged store gives: the generation it restored and its data, or its refusal. */
    private String startOutcome() throws Exception {
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
             EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            PersistenceStatus status = manager.status();
            return "restored generation " + status.restoredGeneration().map(SnapshotInfo::generation).orElse(0L)
                    + ": version=" + call(redis, "GET", "version") + ", keys=" + Standalone.dbsize(redis)
                    + ", skipped=" + status.generationsSkippedOnRestore();
        } catch (PersistenceException e) {
            return "refused: " + e.getMessage();
        }
    }

    /** JE's environments each run one (named Timer-N by java.util.Timer). */
    private static long timerThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && t.getName().startsWith("Timer-"))
                .count();
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
