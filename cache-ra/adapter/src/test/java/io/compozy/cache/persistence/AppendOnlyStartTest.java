package io.compozy.cache.persistence;

import static io.compozy.cache.persistence.Standalone.call;
import static io.compozy.cache.persistence.Standalone.connect;
import static io.compozy.cache.persistence.Standalone.dbsize;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.api.AppendOnlyStatus;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.redisson.client.protocol.RedisCommands;

/**
 * Where the embedded server's data comes from at start when an append-only file is kept: the AOF when it
 * loads (a crash's cut-short tail included), else the newest generation with the AOF rebuilt from it.
 * Real redis-server, real JE store; a "crash" is SIGKILL of redis-server with no final snapshot.
 */
class AppendOnlyStartTest {

    private static final int KEYS = 500;

    @TempDir
    Path root;

    @Test
    void aCrashLosesNoAcknowledgedWriteAndACutShortTailLoadsWithTheDroppedBytesCounted() throws Exception {
        CacheSettings.Standalone settings = settings("everysec");
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence())) {
            EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
            assertThat(status(manager, server).loadedFrom()).contains("an empty server", "no append-only file");
            writeKeys(server, "k", KEYS);
            crash(server);
        }
        Path aofDir = aofDir();
        assertThat(Files.getPosixFilePermissions(aofDir)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        try (Stream<Path> files = Files.list(aofDir)) {
            assertThat(files.toList()).isNotEmpty().allSatisfy(file -> assertThat(Files.getPosixFilePermissions(file))
                    .isEqualTo(PosixFilePermissions.fromString("rw-------")));
        }

        try (SnapshotManager manager = SnapshotManager.open(settings.persistence())) {
            EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
            try (ControlConnection redis = connect(server)) {
                assertThat(dbsize(redis)).as("every acknowledged write, no snapshot taken").isEqualTo(KEYS);
            }
            AppendOnlyStatus status = status(manager, server);
            assertThat(status.loadedFrom()).startsWith("the append-only file");
            assertThat(status.truncatedBytesOnLoad()).isZero();
            assertThat(status.enabled()).isTrue();
            assertThat(status.fsync()).isEqualTo("everysec");
            assertThat(status.sizeBytes()).isPositive();
            assertThat(status.writing()).isTrue();
            crash(server);
        }

        // A crash in the middle of a write: the last command is cut short.
        Path incr = newestIncrFile();
        long size = Files.size(incr);
        try (var channel = Files.newByteChannel(incr, StandardOpenOption.WRITE)) {
            channel.truncate(size - 7);
        }
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence())) {
            EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
            try (ControlConnection redis = connect(server)) {
                assertThat(dbsize(redis)).as("all but the command cut short").isEqualTo(KEYS - 1);
                assertThat(call(redis, "GET", "k" + (KEYS - 2))).isEqualTo("v" + (KEYS - 2));
            }
            AppendOnlyStatus status = status(manager, server);
            assertThat(status.loadedFrom()).startsWith("the append-only file");
            assertThat(status.truncatedBytesOnLoad()).isPositive().isLessThan(64);
            server.close();
        }
    }

    @Test
    void aDamagedFileFallsBackToTheNewestGenerationKeepsTheDamagedOneAsideAndRebuildsTheFile() throws Exception {
        CacheSettings.Standalone settings = settings("always");
        snapshotThenWriteMoreAndCrash(settings, "after");
        Files.writeString(newestIncrFile(), "garbage\r\nnot a command\r\n", StandardOpenOption.APPEND);

        try (SnapshotManager manager = SnapshotManager.open(settings.persistence())) {
            EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
            try (ControlConnection redis = connect(server)) {
                assertThat(call(redis, "GET", "kept9")).isEqualTo("v9");
                assertThat(dbsize(redis)).as("the generation's keys; the newer ones stay in the file set aside")
                        .isEqualTo(10);
            }
            AppendOnlyStatus status = status(manager, server);
            assertThat(status.loadedFrom()).startsWith("snapshot generation 1").contains("damaged", "moved to");
            assertThat(manager.status().generationsSkippedOnRestore()).isEqualTo(1);
            assertThat(status.enabled()).isTrue();
            writeKeys(server, "new", 5);
            crash(server);
        }
        try (Stream<Path> siblings = Files.list(aofDir().getParent())) {
            assertThat(siblings.map(p -> p.getFileName().toString()))
                    .anySatisfy(name -> assertThat(name).startsWith("appendonlydir.damaged-"));
        }
        // The rebuilt file holds the generation and every write since.
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence())) {
            EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
            try (ControlConnection redis = connect(server)) {
                assertThat(dbsize(redis)).isEqualTo(15);
            }
            assertThat(status(manager, server).loadedFrom()).startsWith("the append-only file");
            server.close();
        }
    }

    @Test
    void aDamagedFileWithNoGenerationToFallBackToRefusesToStartAndChangesNothing() throws Exception {
        CacheSettings.Standalone settings = settings("everysec");
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence())) {
            EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
            writeKeys(server, "only", 10);
            crash(server);
        }
        Files.writeString(newestIncrFile(), "garbage\r\n", StandardOpenOption.APPEND);
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence())) {
            assertThatThrownBy(() -> manager.startServer(settings, Standalone.PUMP))
                    .isInstanceOf(PersistenceException.class)
                    .hasMessageContaining("damaged").hasMessageContaining("redis-check-aof --fix")
                    .hasMessageContaining(aofDir().toString());
        }
        assertThat(aofDir().resolve(AppendOnlyFile.MANIFEST)).exists();
    }

    @Test
    void aFileStillLoadingWhenTheWaitRunsOutIsNotTakenForDamage() throws Exception {
        CacheSettings.Standalone settings = settings("everysec");
        snapshotThenWriteMoreAndCrash(settings, "newer");
        CacheSettings.Standalone impatient = Standalone.settings(root,
                Map.of(PersistenceSettings.AOF, "everysec", CacheSettings.START_TIMEOUT, "1ms"));
        try (SnapshotManager manager = SnapshotManager.open(impatient.persistence())) {
            assertThatThrownBy(() -> manager.startServer(impatient, Standalone.PUMP))
                    .isInstanceOf(PersistenceException.class)
                    .hasMessageContaining("still loading").hasMessageContaining("is not damaged")
                    .hasMessageContaining(CacheSettings.START_TIMEOUT);
        }
        try (Stream<Path> siblings = Files.list(aofDir().getParent())) {
            assertThat(siblings.map(p -> p.getFileName().toString())).noneMatch(name -> name.contains("damaged"));
        }
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence())) {
            EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
            try (ControlConnection redis = connect(server)) {
                assertThat(dbsize(redis)).as("the AOF's writes, newer than the generation").isEqualTo(20);
            }
            server.close();
        }
    }

    @Test
    void onlyRedisDamageMessagesCountAsDamageNotTheLineEveryLoadPrints() {
        String loading = "Could not start the embedded redis-server: it exited before it was ready. Its last output: "
                + "* Reading RDB base file on AOF loading...\n* Killed";
        assertThat(AppendOnlyFile.refusedTheFile(new java.io.IOException(loading))).isFalse();
        String damaged = "Its last output: # Bad file format reading the append only file appendonly.aof.1.incr.aof:"
                + " make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>";
        assertThat(AppendOnlyFile.refusedTheFile(new java.io.IOException(damaged))).isTrue();
        assertThat(AppendOnlyFile.refusedTheFile(new java.io.IOException("# Invalid AOF manifest file format")))
                .isTrue();
    }

    @Test
    void switchingTheFileOffOnAndOffAgainKeepsTheData() throws Exception {
        runAndStop(settings("off"), "off1");
        assertThat(aofDir()).doesNotExist();
        runAndStop(settings("everysec"), "on");
        assertThat(aofDir().resolve(AppendOnlyFile.MANIFEST)).exists();
        runAndStop(settings("off"), "off2");
        CacheSettings.Standalone settings = settings("off");
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
             EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            assertThat(dbsize(redis)).isEqualTo(30);
            assertThat(manager.appendOnly()).isEmpty();
        }
        try (Stream<Path> siblings = Files.list(aofDir().getParent())) {
            assertThat(siblings.map(p -> p.getFileName().toString()))
                    .anySatisfy(name -> assertThat(name).startsWith("appendonlydir.aof-off-"));
        }
    }

    @Test
    void aSnapshotAskedForDuringARewriteWaitsForItInsteadOfFailing() throws Exception {
        CacheSettings.Standalone settings = settings("everysec");
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
             EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            writeKeys(server, "k", 1_000);
            // 1 ms per key: the rewrite's fork runs about a second, so it is still running when BGSAVE is asked for.
            call(redis, "CONFIG", "SET", "rdb-key-save-delay", "1000");
            call(redis, "BGREWRITEAOF");
            assertThat(Standalone.persistenceInfo(redis).get("aof_rewrite_in_progress")).isEqualTo("1");
            assertThat(manager.snapshot().orElseThrow().keys()).isEqualTo(1_000);
            assertThat(manager.status().snapshotsFailed()).isZero();
        }
    }

    /** Ten keys "kept<i>" in a generation, ten more "{@code newer}<i>" only in the AOF, then a crash. */
    private static void snapshotThenWriteMoreAndCrash(final CacheSettings.Standalone settings, final String newer)
            throws Exception {
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence())) {
            EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
            writeKeys(server, "kept", 10);
            manager.snapshot().orElseThrow();
            writeKeys(server, newer, 10);
            crash(server);
        }
    }

    private void runAndStop(final CacheSettings.Standalone settings, final String prefix) throws Exception {
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence())) {
            EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
            writeKeys(server, prefix, 10);
            manager.snapshotOnShutdown(); // the adapter's stop order: final snapshot, server, store
            server.close();
        }
    }

    private CacheSettings.Standalone settings(final String aof) {
        return Standalone.settings(root, Map.of(PersistenceSettings.AOF, aof));
    }

    private Path aofDir() {
        return root.resolve("data").resolve(PersistenceSettings.AOF_HOME).resolve(EmbeddedRedisServer.AOF_DIR);
    }

    private Path newestIncrFile() throws Exception {
        try (Stream<Path> files = Files.list(aofDir())) {
            return files.filter(f -> f.getFileName().toString().endsWith(".incr.aof"))
                    .max(Comparator.comparing(f -> f.getFileName().toString())).orElseThrow();
        }
    }

    private static AppendOnlyStatus status(final SnapshotManager manager, final EmbeddedRedisServer server) {
        manager.readInfoWith(() -> {
            try (ControlConnection redis = connect(server)) {
                return Standalone.persistenceInfo(redis);
            }
        });
        return manager.appendOnly().orElseThrow();
    }

    /** SETs acknowledged one by one, as a client's writes are. */
    private static void writeKeys(final EmbeddedRedisServer server, final String prefix, final int count) {
        try (ControlConnection redis = connect(server)) {
            for (int i = 0; i < count; i++) {
                assertThat(call(redis, "SET", prefix + i, "v" + i)).isEqualTo("OK");
            }
        }
    }

    /**
     * SIGKILL: no final snapshot, no graceful shutdown of Redis. First waits until Redis has written its AOF
     * buffer: with everysec, while a background fsync is slow (a loaded disk), Redis acknowledges writes it
     * holds in memory for up to 2 s, and a kill then loses them (the documented window, docs/reliability.md).
     */
    private static void crash(final EmbeddedRedisServer server) throws Exception {
        try (ControlConnection control = connect(server)) {
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    "0".equals(control.sync(RedisCommands.INFO_PERSISTENCE)
                            .get("aof_buffer_length")));
        }
        ProcessHandle redis = ProcessHandle.of(server.pid()).orElseThrow();
        redis.destroyForcibly();
        redis.onExit().get(10, TimeUnit.SECONDS);
        server.close();
    }
}
