package io.compozy.cache.persistence;

import static io.compozy.cache.persistence.Standalone.call;
import static io.compozy.cache.persistence.Standalone.connect;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import io.compozy.cache.embedded.RedisBinary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restore that fails never costs the data that was live: the server comes back on it (from the append-only
 * file, kept where it is until the restored data is live, or without one from an RDB saved just before), with
 * every write since the newest generation. Redis's refusal of the generation is real: a redis-server binary
 * that refuses the next RDB it is started on, once.
 */
class RestoreFallbackTest {

    @TempDir
    Path root;

    @ParameterizedTest(name = "aof={0}")
    @ValueSource(strings = {"everysec", "off"})
    void aRestoreRedisRefusesBringsBackTheDataThatWasLiveWithEveryWriteSinceTheNewestGeneration(final String aof)
            throws Exception {
        Path refuseNextRdb = root.resolve("refuse-next-rdb");
        CacheSettings.Standalone settings = settings(aof, refuseNextRdb);
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence())) {
            EmbeddedRedisServer first = manager.startServer(settings, Standalone.PUMP);
            long generation;
            try (ControlConnection redis = connect(first)) {
                call(redis, "SET", "version", "the generation");
                generation = manager.snapshot().orElseThrow().generation();
                call(redis, "SET", "version", "live");
                call(redis, "SET", "written:after", "the newest generation");
            }
            Files.createFile(refuseNextRdb);

            assertThatThrownBy(() -> manager.restore(generation)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("Generation " + generation + " could not be restored")
                    .hasMessageContaining("runs again on the data that was live before the restore");

            EmbeddedRedisServer now = manager.owner().current();
            assertThat(now.isAlive()).isTrue();
            assertThat(now.port()).as("the same address, so clients reconnect").isEqualTo(first.port());
            try (ControlConnection redis = connect(now)) {
                assertThat(call(redis, "GET", "version")).isEqualTo("live");
                assertThat(call(redis, "GET", "written:after")).isEqualTo("the newest generation");
                call(redis, "SET", "after:failed:restore", "kept");
            }
            assertThat(root.resolve("data").resolve(EmbeddedServerOwner.LIVE_BEFORE_RESTORE)).doesNotExist();
        }
        if (aof.equals("everysec")) {
            // The AOF was never moved aside: the next start loads it, with the writes after the failed restore.
            try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
                 EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
                 ControlConnection redis = connect(server)) {
                assertThat(call(redis, "GET", "version")).isEqualTo("live");
                assertThat(call(redis, "GET", "after:failed:restore")).isEqualTo("kept");
            }
        }
    }

    /**
     * Work a restore does on the restored data (the stores' key-layout migration) happens before any other
     * client sees it: a client reading all along never finds the data half-prepared.
     */
    @Test
    void aClientReadingThroughARestoreNeverSeesTheDataBeforeItIsPrepared() throws Exception {
        CacheSettings.Standalone settings = settings("everysec", root.resolve("no-fault"));
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence())) {
            EmbeddedRedisServer first = manager.startServer(settings, Standalone.PUMP);
            long generation;
            try (ControlConnection redis = connect(first)) {
                for (int i = 0; i < 200; i++) {
                    call(redis, "SET", "old:" + i, "v" + i);
                }
                generation = manager.snapshot().orElseThrow().generation();
                call(redis, "FLUSHALL");
                call(redis, "SET", "new:0", "live");
            }
            java.util.List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
            java.util.concurrent.atomic.AtomicBoolean restoring = new java.util.concurrent.atomic.AtomicBoolean(true);
            Thread reader = new Thread(() -> {
                while (restoring.get()) {
                    try (ControlConnection redis = connect(first)) { // the clients' address and password
                        while (restoring.get()) {
                            seen.add(call(redis, "EXISTS", "old:199") + "/" + call(redis, "GET", "new:0"));
                        }
                    } catch (RuntimeException refusedOrClosed) {
                        // the restore stops the server, and refuses the clients' password while it prepares
                    }
                }
            });
            reader.start();
            manager.restore(generation, restored -> {
                for (int i = 0; i < 200; i++) {
                    restored.getBucket("old:" + i).rename("new:" + i);
                }
            });
            try (ControlConnection redis = connect(manager.owner().current())) {
                assertThat(call(redis, "GET", "new:199")).isEqualTo("v199");
                assertThat(call(redis, "EXISTS", "old:0")).isEqualTo(0L);
            }
            int seenBeforeTheEnd = seen.size();
            await().atMost(Duration.ofSeconds(30)).until(() -> seen.size() > seenBeforeTheEnd);
            restoring.set(false);
            reader.join();
            assertThat(seen).as("every read: the live data, or the prepared restored data")
                    .allMatch(read -> read.equals("0/live") || read.equals("0/v0"))
                    .contains("0/v0");
        }
    }

    /** A finished BGSAVE's RDB that a killed JVM never stored must not block every restore of a generation. */
    @Test
    void aLeftoverSnapshotFileInTheDataDirectoryDoesNotBlockRestoringAGeneration() throws Exception {
        CacheSettings.Standalone settings = settings("everysec", root.resolve("no-fault"));
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
             EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            call(redis, "SET", "k", "in the generation");
            manager.snapshot().orElseThrow();
        }
        Path redisDir = root.resolve("data").resolve(PersistenceSettings.AOF_HOME);
        Files.writeString(redisDir.resolve(EmbeddedRedisServer.RDB_FILE), "what a killed JVM left");
        // The AOF is gone (moved away by the operator): the start restores the newest generation.
        Files.walk(redisDir.resolve(EmbeddedRedisServer.AOF_DIR)).sorted(java.util.Comparator.reverseOrder())
                .forEach(path -> path.toFile().delete());
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
             EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            assertThat(call(redis, "GET", "k")).isEqualTo("in the generation");
            call(redis, "SET", "k", "changed");
            long generation = manager.generations().get(0).generation();
            Files.writeString(redisDir.resolve(EmbeddedRedisServer.RDB_FILE), "left again");
            manager.restore(generation);
        }
    }

    private CacheSettings.Standalone settings(final String aof, final Path refuseNextRdb) throws IOException {
        Map<String, String> extra = new HashMap<>(Map.of(PersistenceSettings.AOF, aof,
                CacheSettings.BINARY, refusingBinary(refuseNextRdb).toString()));
        return Standalone.settings(root, extra);
    }

    /**
     * The bundled redis-server behind a wrapper that, while {@code fault} exists, refuses to start on an RDB
     * the way Redis refuses a damaged one (exit 1 with Redis's message), once.
     */
    private Path refusingBinary(final Path fault) throws IOException {
        Path bin = Files.createDirectories(root.resolve("bin"));
        Path real = RedisBinary.bundled(bin);
        Path wrapper = bin.resolve("redis-server-refusing-once");
        Files.writeString(wrapper, String.join("\n",
                "#!/bin/sh",
                "dir=$(sed -n 's/^dir \"\\(.*\\)\"$/\\1/p' \"$1\")",
                "if [ -f '" + fault + "' ] && [ -s \"$dir/" + EmbeddedRedisServer.RDB_FILE + "\" ]; then",
                "  rm -f '" + fault + "'",
                "  echo 'Short read or OOM loading DB. Unrecoverable error, aborting now.'",
                "  exit 1",
                "fi",
                "exec '" + real + "' \"$@\"", ""));
        Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwx------"));
        return wrapper;
    }
}
