package io.compozy.cache.persistence;

import static io.compozy.cache.persistence.Standalone.call;
import static io.compozy.cache.persistence.Standalone.connect;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A slow redis-server is not a corrupt snapshot, and a snapshot's wait for BGSAVE has an end. */
class SlowSnapshotTest {

    @TempDir
    Path root;

    @Test
    void aGenerationStillLoadingWhenTheWaitEndsStopsTheStartLoudlyInsteadOfRestoringAnOlderOne() throws Exception {
        CacheSettings.Standalone settings = Standalone.settings(root);
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
             EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            call(redis, "SET", "version", "small and old");
            manager.snapshot().orElseThrow();
            // Random, so that the RDB (LZF-compressed) stays big.
            java.util.Random random = new java.util.Random(7);
            for (int i = 0; i < 1_000; i++) {
                String blob = random.ints(2_000, 'a', 'z' + 1)
                        .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
                call(redis, "SET", "blob:" + i, blob + i);
            }
            call(redis, "SET", "version", "big and new");
            manager.snapshot().orElseThrow();
        }
        // The real redis-server, behind a wrapper that is slow to start whenever it is handed a big RDB:
        // what a multi-gigabyte generation does to a server given the default start_timeout.
        Path real = Files.list(root.resolve("work")).filter(p -> p.getFileName().toString().startsWith("redis-server-")
                && !p.toString().endsWith(".partial")).findFirst().orElseThrow();
        Path slow = root.resolve("slow-redis-server");
        Files.writeString(slow, "#!/bin/sh\n"
                + "if [ -f snapshot.rdb ] && [ \"$(wc -c < snapshot.rdb)\" -gt 1000000 ]; then exec sleep 30; fi\n"
                + "exec '" + real + "' \"$@\"\n");
        Files.setPosixFilePermissions(slow, PosixFilePermissions.fromString("rwx------"));
        CacheSettings.Standalone slowSettings = Standalone.settings(root, Map.of(
                CacheSettings.BINARY, slow.toString(), CacheSettings.START_TIMEOUT, "2s"));

        try (SnapshotManager manager = SnapshotManager.open(slowSettings.persistence())) {
            assertThatThrownBy(() -> manager.startServer(slowSettings, Standalone.PUMP).close())
                    .isInstanceOf(PersistenceException.class)
                    .hasMessageContaining("Generation 2")
                    .hasMessageContaining("still loading")
                    .hasMessageContaining("no older generation is restored")
                    .hasMessageContaining(CacheSettings.START_TIMEOUT);
            assertThat(manager.generations()).as("nothing deleted").hasSize(2);
            assertThat(manager.status().generationsSkippedOnRestore()).as("not counted as a damaged generation").isZero();
        }
    }

    /** Until no BGSAVE runs (the one the deadline test abandoned). */
    private static void awaitIdle(final ControlConnection redis) {
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).until(
                () -> "0".equals(Standalone.persistenceInfo(redis).get("rdb_bgsave_in_progress")));
    }

    @Test
    void theWaitForBgsaveEndsAtItsDeadlineOnAnInterruptAndWhenTheServerExits() throws Exception {
        CacheSettings.Standalone settings = Standalone.settings(root);
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
             EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            String blob = "y".repeat(1_000);
            for (int i = 0; i < 20_000; i++) {
                call(redis, "SET", "blob:" + i, blob + i);
            }
            call(redis, "BGSAVE");
            // A deadline already passed: the wait must end with the reason, not poll forever.
            assertThatThrownBy(() -> BgsaveCapture.awaitBgsave(server, redis, System.nanoTime() - 1,
                    Duration.ofMillis(1)))
                    .isInstanceOf(IOException.class).hasMessageContaining("BGSAVE did not finish within");
            assertThat(BgsaveCapture.bgsaveDeadline(0)).isEqualTo(Duration.ofMinutes(1));
            // An interrupt ends the wait at once (the adapter stopping), as an InterruptedIOException.
            call(redis, "CONFIG", "SET", "rdb-key-save-delay", "1000"); // 1 ms a key: the next BGSAVE runs 20 s
            awaitIdle(redis);
            call(redis, "BGSAVE");
            java.util.concurrent.atomic.AtomicReference<Throwable> ended = new java.util.concurrent.atomic.AtomicReference<>();
            Thread waiter = new Thread(() -> {
                try {
                    BgsaveCapture.awaitBgsave(server, redis, System.nanoTime() + Duration.ofMinutes(5).toNanos(),
                            Duration.ofMinutes(5));
                } catch (IOException | RuntimeException e) {
                    ended.set(e);
                }
            });
            waiter.start();
            waiter.interrupt(); // before or during its first pause: either way the wait must end

            waiter.join(5_000);
            assertThat(waiter.isAlive()).as("the wait ended on the interrupt").isFalse();
            assertThat(ended.get()).as(String.valueOf(ended.get())).isInstanceOf(java.io.InterruptedIOException.class);
            // The server exiting during the snapshot ends the wait too, long before its deadline.
            long start = System.nanoTime();
            ProcessHandle.of(server.pid()).orElseThrow().destroyForcibly();
            assertThatThrownBy(() -> BgsaveCapture.awaitBgsave(server, redis,
                    System.nanoTime() + Duration.ofMinutes(5).toNanos(), Duration.ofMinutes(5)))
                    .isInstanceOf(IOException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
            assertThat(BgsaveCapture.bgsaveDeadline(10L << 30)).isEqualTo(Duration.ofMinutes(1).plusSeconds(1024));
        }
    }
}
