package io.compozy.cache.persistence;

import static io.compozy.cache.persistence.Standalone.call;
import static io.compozy.cache.persistence.Standalone.connect;
import static io.compozy.cache.persistence.Standalone.contents;
import static io.compozy.cache.persistence.Standalone.expiries;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.moilioncircle.redis.replicator.util.CRC64;
import com.sleepycat.je.DatabaseEntry;
import io.compozy.cache.api.SnapshotInfo;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An RDB file in (checked by redis-replicator before anything is stored) and a generation restored into the
 * running embedded server, on its address, with every type and absolute expiry as they were.
 */
class RdbUploadRestoreTest {

    @TempDir
    Path root;

    @Test
    void anUploadedRdbIsStoredUntouchedAndRestoreBringsItBackOnTheSameAddress() throws Exception {
        CacheSettings.Standalone settings = Standalone.settings(root);
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence())) {
            EmbeddedRedisServer first = manager.startServer(settings, Standalone.PUMP);
            Map<String, Object> source;
            Map<String, Long> sourceExpiries;
            byte[] rdb;
            try (ControlConnection redis = connect(first)) {
                Standalone.fillEveryType(redis, "");
                source = contents(redis);
                sourceExpiries = expiries(redis);
                rdb = export(manager, manager.snapshot().orElseThrow().generation());
                call(redis, "FLUSHALL");
                call(redis, "SET", "written:later", "replaced by the restore");
            }

            SnapshotInfo uploaded = manager.storeRdb(new ByteArrayInputStream(rdb));
            assertThat(uploaded.generation()).isEqualTo(2);
            assertThat(uploaded.keys()).isEqualTo(source.size());
            assertThat(uploaded.bytes()).isEqualTo(rdb.length);
            assertThat(uploaded.redisVersion()).startsWith("7.0");
            assertThat(export(manager, 2)).isEqualTo(rdb);
            try (ControlConnection redis = connect(first)) {
                assertThat(call(redis, "GET", "written:later")).as("storing does not touch the live data").isNotNull();
            }

            SnapshotInfo after = manager.restore(2);
            EmbeddedRedisServer second = manager.owner().current();
            assertThat(second).isNotNull();
            assertThat(second.pid()).isNotEqualTo(first.pid());
            assertThat(first.isAlive()).isFalse();
            assertThat(second.port()).isEqualTo(first.port());
            assertThat(second.password().reveal()).isEqualTo(first.password().reveal());
            try (ControlConnection redis = connect(second)) {
                assertThat(contents(redis)).isEqualTo(source);
                assertThat(expiries(redis)).isEqualTo(sourceExpiries);
            }
            // The restored data is the newest generation: a crash or a restart comes back to it.
            assertThat(after.generation()).isEqualTo(3);
            assertThat(manager.status().restoredGeneration()).map(SnapshotInfo::generation).contains(2L);
            second.close();
        }
    }

    /**
     * An application writing the whole time a restore runs: the restore's snapshot (the newest generation, what a
     * restart comes back to) is the generation restored, none of the writes that reach the new server after it.
     */
    @Test
    void theSnapshotOfARestoreHoldsTheGenerationAndNothingAClientWroteAfterIt() throws Exception {
        CacheSettings.Standalone settings = Standalone.settings(root);
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence())) {
            EmbeddedRedisServer first = manager.startServer(settings, Standalone.PUMP);
            SnapshotInfo generation;
            try (ControlConnection redis = connect(first)) {
                Standalone.fillEveryType(redis, "");
                generation = manager.snapshot().orElseThrow();
            }
            io.netty.channel.nio.NioEventLoopGroup group = new io.netty.channel.nio.NioEventLoopGroup(1);
            io.netty.util.HashedWheelTimer timer = new io.netty.util.HashedWheelTimer();
            org.redisson.client.RedisClient application = org.redisson.client.RedisClient.create(
                    new org.redisson.client.RedisClientConfig().setAddress(first.host(), first.port())
                            .setPassword(first.password().reveal()).setConnectTimeout(1_000).setCommandTimeout(200).setGroup(group)
                            .setExecutor(group).setTimer(timer)
                            .setResolverGroup(io.netty.resolver.DefaultAddressResolverGroup.INSTANCE));
            java.util.concurrent.atomic.AtomicBoolean restored = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicLong writtenAfter = new java.util.concurrent.atomic.AtomicLong();
            java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
            Thread writer = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    try {
                        org.redisson.client.RedisConnection connection = application.connect();
                        try {
                            while (!Thread.currentThread().isInterrupted()) {
                                boolean afterRestore = restored.get();
                                connection.sync(org.redisson.client.protocol.RedisCommands.SET,
                                        "written:" + written.incrementAndGet(), "by the application");
                                if (afterRestore) {
                                    writtenAfter.incrementAndGet();
                                }
                            }
                        } finally {
                            connection.closeAsync();
                        }
                    } catch (RuntimeException refusedOrGone) {
                        // the server is restarting, or does not take the clients' password yet: try again
                        java.util.concurrent.locks.LockSupport.parkNanos(100_000);
                    }
                }
            }, "application-writer");
            writer.start();
            try {
                org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                        .until(() -> written.get() > 100);
                SnapshotInfo after = manager.restore(generation.generation());
                restored.set(true);
                assertThat(after.keys()).as("the restore's snapshot is the generation, no write of after it")
                        .isEqualTo(generation.keys());
                org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                        .alias("the application writes again once the restore is done")
                        .until(() -> writtenAfter.get() > 0);
            } finally {
                writer.interrupt();
                writer.join();
                application.shutdown();
                group.shutdownGracefully().syncUninterruptibly();
                timer.stop();
            }
            manager.owner().current().close();
        }
    }

    @Test
    void aTruncatedDamagedForeignOrNewerFileIsRefusedNamingWhyAndNothingIsStored() throws Exception {
        CacheSettings.Standalone settings = Standalone.settings(root);
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
             EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP)) {
            try (ControlConnection redis = connect(server)) {
                Standalone.fillEveryType(redis, "");
            }
            byte[] rdb = export(manager, manager.snapshot().orElseThrow().generation());
            List<SnapshotInfo> before = manager.generations();

            assertRefused(manager, Arrays.copyOf(rdb, rdb.length - 100), "it is truncated");
            assertRefused(manager, Arrays.copyOf(rdb, 9), "it is truncated");
            assertRefused(manager, "not a dump at all".getBytes(StandardCharsets.US_ASCII), "it is not an RDB file");
            assertRefused(manager, new byte[0], "it is not an RDB file");
            byte[] flipped = rdb.clone();
            flipped[rdb.length / 2] ^= 0x01;
            assertRefused(manager, flipped, "");
            byte[] trailing = Arrays.copyOf(rdb, rdb.length + 4);
            assertRefused(manager, trailing, "it is damaged");
            assertRefused(manager, withVersion(rdb, 11), "RDB format 11 (written by Redis 7.0.15) is newer than the"
                    + " embedded Redis 7.0 reads");
            assertRefused(manager, withVersion(rdb, 99), "its RDB format is newer than any Redis this adapter knows");

            assertThat(manager.generations()).isEqualTo(before);
            try (Stream<Path> files = Files.list(root.resolve("data"))) {
                assertThat(files.map(Path::getFileName).map(Path::toString))
                        .noneMatch(name -> name.startsWith(SnapshotManager.UPLOAD_PREFIX));
            }
            assertThatThrownBy(() -> manager.restore(42)).isInstanceOf(NoSuchElementException.class)
                    .hasMessageContaining("Generation 42 is not stored");
        }
    }

    @Test
    void withTheAppendOnlyFileOnARestoredGenerationIsWhatTheNextStartLoads() throws Exception {
        // Redis loads an AOF before any RDB: the replaced data's AOF must not come back after a restart.
        CacheSettings.Standalone settings = Standalone.settings(root, Map.of(PersistenceSettings.AOF, "everysec"));
        long generation;
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence())) {
            EmbeddedRedisServer first = manager.startServer(settings, Standalone.PUMP);
            try (ControlConnection redis = connect(first)) {
                call(redis, "SET", "version", "the generation");
                generation = manager.snapshot().orElseThrow().generation();
                call(redis, "SET", "version", "replaced by the restore");
                call(redis, "SET", "written:later", "replaced by the restore");
            }
            manager.restore(generation);
            try (ControlConnection redis = connect(manager.owner().current())) {
                assertThat(call(redis, "GET", "version")).isEqualTo("the generation");
                call(redis, "SET", "after:restore", "kept by the append-only file");
            }
            manager.owner().current().close(); // a kill or a stop without a final snapshot: the AOF is all there is
        }
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
             EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            assertThat(call(redis, "GET", "version")).isEqualTo("the generation");
            assertThat(call(redis, "GET", "written:later")).isNull();
            assertThat(call(redis, "GET", "after:restore")).isEqualTo("kept by the append-only file");
        }
    }

    @Test
    void restoringACorruptGenerationChangesNothing() throws Exception {
        CacheSettings.Standalone settings = Standalone.settings(root);
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
             EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            call(redis, "SET", "version", "first");
            manager.snapshot().orElseThrow();
        }
        try (SnapshotStore store = SnapshotStore.open(root.resolve("data"), Optional.empty())) {
            store.chunksDatabase().put(null, new DatabaseEntry(GenerationFormat.chunkKey(1, 0)),
                    new DatabaseEntry(new byte[] {'R', 'E', 'D', 'I', 'S'}));
        }
        try (SnapshotManager manager = SnapshotManager.open(Standalone.settings(root,
                Map.of(PersistenceSettings.RESTORE_ON_STARTUP, "false")).persistence());
             EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            call(redis, "SET", "version", "live");
            assertThatThrownBy(() -> manager.restore(1)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("generation 1 is corrupt");
            assertThat(server.isAlive()).as("the server was not stopped").isTrue();
            assertThat(call(redis, "GET", "version")).isEqualTo("live");
            assertThat(manager.generations()).extracting(SnapshotInfo::generation).containsExactly(1L);
        }
    }

    @Test
    void theRdbVersionIsNamedWithTheRedisThatWritesIt() {
        assertThat(RdbFile.writerOf(9)).isEqualTo("5.0 to 6.2");
        assertThat(RdbFile.writerOf(10)).isEqualTo("7.0");
        assertThat(RdbFile.writerOf(11)).isEqualTo("7.2");
        assertThat(RdbFile.writerOf(12)).isEqualTo("7.4 or later");
    }

    private static void assertRefused(final SnapshotManager manager, final byte[] file, final String why) {
        assertThatThrownBy(() -> manager.storeRdb(new ByteArrayInputStream(file)))
                .isInstanceOf(InvalidRdbException.class)
                .hasMessageContaining(why);
    }

    static byte[] export(final SnapshotManager manager, final long generation) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        manager.writeRdb(generation, out);
        return out.toByteArray();
    }

    /** The same file with another format version in its header and a checksum that matches again. */
    private static byte[] withVersion(final byte[] rdb, final int version) {
        byte[] changed = rdb.clone();
        System.arraycopy(String.format("%04d", version).getBytes(StandardCharsets.US_ASCII), 0, changed, 5, 4);
        long crc = CRC64.crc64(changed, 0, changed.length - 8);
        ByteBuffer.wrap(changed, changed.length - 8, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(crc);
        return changed;
    }
}
