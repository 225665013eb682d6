package io.compozy.cache.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store's guard against lost generations, and its use by status threads while snapshots run. */
class SnapshotStoreSafetyTest {

    @TempDir
    Path root;

    @Test
    void aDamagedMarkerFailsTheOpenNamingTheFileInsteadOfDisablingTheLossCheck() throws Exception {
        Path data = root.resolve("data");
        try (SnapshotStore store = SnapshotStore.open(data, Optional.empty())) {
            store.write(rdb(10_000), Instant.now(), 1, "7.0.15", System.nanoTime());
        }
        Files.writeString(data.resolve(CommitMarker.FILE), "not-a-number\n");

        assertThatThrownBy(() -> SnapshotStore.open(data, Optional.empty()))
                .isInstanceOf(PersistenceException.class)
                .hasMessageContaining(data.toRealPath().resolve(CommitMarker.FILE).toString())
                .hasMessageContaining("redis.standalone.persistence.data_dir")
                .hasMessageContaining("does not hold a generation number");

        // A store without a marker (new, or written before markers existed) opens as before.
        Files.delete(data.resolve(CommitMarker.FILE));
        try (SnapshotStore store = SnapshotStore.open(data, Optional.empty())) {
            assertThat(store.generations()).hasSize(1);
            assertThat(store.lostNewest()).isEmpty();
        }
    }

    @Test
    void statusThreadsListingDuringSnapshotsPrunesAndCloseNeverFail() throws Exception {
        Path data = root.resolve("data");
        SnapshotStore store = SnapshotStore.open(data, Optional.empty());
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        AtomicBoolean polling = new AtomicBoolean(true);
        AtomicLong listings = new AtomicLong();
        List<Thread> pollers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Thread poller = new Thread(() -> {
                while (polling.get()) {
                    try {
                        List<StoredGeneration> listed = store.generations();
                        assertThat(listed.size()).isBetween(0, 3);
                        assertThat(store.lostNewest()).isEmpty();
                        listings.incrementAndGet();
                    } catch (Throwable e) {
                        failures.add(e);
                        return;
                    }
                }
            }, "status-poller-" + i);
            poller.start();
            pollers.add(poller);
        }
        try {
            for (int i = 0; i < 40; i++) {
                StoredGeneration written = store.write(rdb(300_000 + i), Instant.now(), i, "7.0.15", System.nanoTime());
                store.verify(written);
                store.prune(2);
            }
            assertThat(store.generations()).extracting(StoredGeneration::generation).containsExactly(40L, 39L);
        } finally {
            store.close(); // while the pollers still list: they must see the last listing, not a closed handle
            long atClose = listings.get();
            await().atMost(Duration.ofSeconds(30)).until(() -> listings.get() > atClose + 30 || !failures.isEmpty());
            polling.set(false);
            for (Thread poller : pollers) {
                poller.join(10_000);
            }
        }
        assertThat(failures).isEmpty();
        try (SnapshotStore reopened = SnapshotStore.open(data, Optional.empty())) {
            assertThat(reopened.generations()).extracting(StoredGeneration::generation).containsExactly(40L, 39L);
        }
    }

    @Test
    void aDamagedGenerationStreamsFewerBytesThanItsLengthNeverACompleteLookingFile() throws Exception {
        Path data = root.resolve("data");
        try (SnapshotStore store = SnapshotStore.open(data, Optional.empty())) {
            StoredGeneration written = store.write(rdb(3 * GenerationFormat.CHUNK_BYTES + 100), Instant.now(), 1,
                    "7.0.15", System.nanoTime());
            // One flipped byte in the last chunk: same length, only the SHA-256 can tell.
            var key = new com.sleepycat.je.DatabaseEntry(GenerationFormat.chunkKey(1, 3));
            var value = new com.sleepycat.je.DatabaseEntry();
            store.chunksDatabase().get(null, key, value, null);
            byte[] damaged = value.getData();
            damaged[0] ^= 1;
            store.chunksDatabase().put(null, key, new com.sleepycat.je.DatabaseEntry(damaged));

            var received = new java.io.ByteArrayOutputStream();
            assertThatThrownBy(() -> store.stream(written, received))
                    .isInstanceOf(CorruptGenerationException.class).hasMessageContaining("SHA-256");
            assertThat((long) received.size()).isLessThan(written.bytes());
        }
    }

    private Path rdb(final int bytes) throws Exception {
        byte[] content = new byte[bytes];
        new Random(bytes).nextBytes(content);
        Path file = Files.createTempFile(root, "snapshot", ".rdb");
        Files.write(file, content);
        return file;
    }
}
