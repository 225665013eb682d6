package io.compozy.cache.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.compozy.cache.api.SnapshotFailedException;
import io.compozy.cache.api.SnapshotInfo;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.assertj.core.api.AbstractThrowableAssert;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real JE store on a real small tmpfs: a full disk fails the generation being written, keeps the stored
 * ones, and snapshots work again once there is space, without reopening the store by hand.
 *
 * <p>Mounting needs root: CI runs as root and runs this test (with {@code CI} set it never skips); a
 * developer who is not root sees it skipped, with the reason, as the README says.
 */
class SnapshotDiskFullTest {

    private static final int MIB = 1 << 20;

    @TempDir
    Path root;
    Path mount;

    @BeforeEach
    void smallDisk() throws Exception {
        boolean asRoot = new com.sun.security.auth.module.UnixSystem().getUid() == 0;
        assumeTrue(asRoot || System.getenv("CI") != null,
                "SnapshotDiskFullTest mounts a tmpfs, which needs root: run it as root (CI does)");
        mount = Files.createDirectories(root.resolve("disk"));
        run("mount", "-t", "tmpfs", "-o", "size=100m,mode=0700", "tmpfs", mount.toString());
    }

    /**
     * Unmounts once nothing holds the disk. A CI run found it busy right after a restore that met the full disk
     * (once, not reproduced in later runs): it is retried until free, at most 15 s, and the holders (lsof) are
     * printed the first time, so a handle that stays open fails the test naming its process and file.
     */
    @AfterEach
    void unmount() throws Exception {
        if (mount == null) {
            return;
        }
        String first = output("umount", mount.toString());
        if (first.isEmpty()) {
            return;
        }
        Process lsof = new ProcessBuilder("lsof", "+D", mount.toString()).redirectErrorStream(true).start();
        String holders = new String(lsof.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        lsof.waitFor();
        System.out.println("umount " + mount + ": " + first.strip() + "; holders:\n" + holders);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(15))
                .pollInterval(java.time.Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(output("umount", mount.toString()))
                        .as("umount %s (holders when first refused:%n%s)", mount, holders).isEmpty());
    }

    /** Runs a command; its output when it failed, else "". */
    private static String output(final String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return process.waitFor() == 0 ? "" : output.isEmpty() ? "exit " + process.exitValue() : output;
    }

    @Test
    void aWriteThatHitsNoSpaceLeftFailsCleanlyAndTheStoreRecoversOnceThereIsSpace() throws Exception {
        Path data = mount.resolve("data");
        try (SnapshotStore store = SnapshotStore.open(data, Optional.empty())) {
            StoredGeneration first = store.write(rdb(4 * MIB), Instant.now(), 1, "7.0.15", System.nanoTime());
            // Another process fills the disk faster than JE looks at its free space: the write meets ENOSPC.
            Path filler = mount.resolve("filler");
            fill(filler, mount.toFile().getUsableSpace() - MIB);

            assertWriteFails(store, 10 * MIB, data).hasMessageContaining("No space left on device");
            assertThat(store.generations()).extracting(StoredGeneration::generation).containsExactly(1L);

            Files.delete(filler);
            StoredGeneration next = store.write(rdb(4 * MIB), Instant.now(), 1, "7.0.15", System.nanoTime());
            store.verify(next);
            store.verify(first);
            assertThat(store.generations()).extracting(StoredGeneration::generation)
                    .containsExactly(next.generation(), 1L);
        }
        try (SnapshotStore reopened = SnapshotStore.open(data, Optional.empty())) {
            assertThat(reopened.generations()).hasSize(2);
        }
    }

    @Test
    void belowTheFreeDiskFloorWritesAreRefusedAndResumeWhenTheDiskGrows() throws Exception {
        Path data = mount.resolve("data");
        try (SnapshotStore store = SnapshotStore.open(data, Optional.empty())) {
            store.write(rdb(4 * MIB), Instant.now(), 1, "7.0.15", System.nanoTime());

            assertWriteFails(store, 40 * MIB, data).hasMessageContaining("not enough free disk")
                    .hasMessageContaining("at least 64 MiB free");
            assertThat(store.generations()).extracting(StoredGeneration::generation).containsExactly(1L);

            run("mount", "-o", "remount,size=256m", mount.toString());
            // JE looks at the free space again within its cleaner's wake-up interval (10 s).
            StoredGeneration next = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1))
                    .ignoreExceptionsInstanceOf(PersistenceException.class)
                    .until(() -> store.write(rdb(4 * MIB), Instant.now(), 1, "7.0.15", System.nanoTime()), g -> true);
            store.verify(next);
            assertThat(store.generations()).hasSize(2);
        }
    }

    /** An upload that meets a full disk is this server's failure, not the sender's: nothing stored, nothing left. */
    @Test
    void anUploadThatMeetsAFullDiskSaysSoAndStoresNothing() throws Exception {
        CacheSettings.Standalone settings = onTheSmallDisk();
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence())) {
            Path filler = mount.resolve("filler");
            fill(filler, mount.toFile().getUsableSpace() - MIB);
            try (var body = Files.newInputStream(rdb(8 * MIB))) {
                assertThatThrownBy(() -> manager.storeRdb(body))
                        .isInstanceOfSatisfying(SnapshotFailedException.class,
                                failure -> assertThat(failure.liveDataChanged()).isFalse())
                        .hasMessageContaining("Cannot write the upload into")
                        .hasMessageContaining(PersistenceSettings.DATA_DIR)
                        .hasMessageContaining("No space left on device")
                        .hasMessageContaining("Nothing was stored");
            }
            assertThat(manager.generations()).isEmpty();
            assertNoUploadLeft();
        }
    }

    /**
     * A valid upload that the disk has room to receive but not to store: the store's write fails. That is this
     * server's failure, named as such with data_dir, and neither the stored generations nor the live data change.
     */
    @Test
    void anUploadTheStoreCannotWriteIsTheServersFailureNamingDataDirAndChangesNothing() throws Exception {
        CacheSettings.Standalone settings = onTheSmallDisk();
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
             EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
             ControlConnection redis = Standalone.connect(server)) {
            writeRandomValues(redis, 8);
            long stored = manager.snapshot().orElseThrow().generation();
            byte[] upload = RdbUploadRestoreTest.export(manager, stored);
            long keys = Standalone.dbsize(redis);
            // Room for the upload's own file, not for the store's copy of it as well.
            fill(mount.resolve("filler"), mount.toFile().getUsableSpace() - upload.length - 4 * MIB);

            assertTheDiskFailed(() -> manager.storeRdb(new ByteArrayInputStream(upload)), false)
                    .hasMessageContaining("was not stored")
                    .hasMessageContaining("The live data did not change");
            assertThat(manager.generations()).extracting(SnapshotInfo::generation).containsExactly(stored);
            assertThat(Standalone.dbsize(redis)).isEqualTo(keys);
            assertNoUploadLeft();
        }
    }

    /**
     * A restore whose server starts on the generation, but whose snapshot of the restored data meets a full
     * disk: the live data has changed (it is the generation now), and the failure says so.
     */
    @Test
    void aRestoreWhoseSnapshotMeetsAFullDiskSaysTheLiveDataChanged() throws Exception {
        CacheSettings.Standalone settings = onTheSmallDisk();
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence())) {
            EmbeddedRedisServer first = manager.startServer(settings, Standalone.PUMP);
            long generation;
            try (ControlConnection redis = Standalone.connect(first)) {
                writeRandomValues(redis, 8); // the snapshot of the restored data needs more than the disk has left
                Standalone.call(redis, "SET", "in:the-generation", "1");
                generation = manager.snapshot().orElseThrow().generation();
                Standalone.call(redis, "SET", "written:after-it", "replaced by the restore");
            }
            Path filler = mount.resolve("filler");
            fill(filler, mount.toFile().getUsableSpace() - MIB);

            assertTheDiskFailed(() -> manager.restore(generation), true)
                    .hasMessageContaining("Generation " + generation + " is live now");
            EmbeddedRedisServer restored = manager.owner().current();
            assertThat(restored.pid()).isNotEqualTo(first.pid());
            try (ControlConnection redis = Standalone.connect(restored)) {
                assertThat(Standalone.call(redis, "GET", "in:the-generation")).isEqualTo("1");
                assertThat(Standalone.call(redis, "GET", "written:after-it")).isNull();
            }
            assertThat(manager.generations()).extracting(SnapshotInfo::generation).containsExactly(generation);

            Files.delete(filler);
            assertThat(manager.snapshot().orElseThrow().generation()).isGreaterThan(generation);
            restored.close();
        }
    }

    private CacheSettings.Standalone onTheSmallDisk() {
        return Standalone.settings(root, Map.of(PersistenceSettings.DATA_DIR, mount.resolve("data").toString()));
    }

    /** The call fails as this server's full disk: naming data_dir, the directory and the cause. */
    private AbstractThrowableAssert<?, ? extends Throwable> assertTheDiskFailed(final ThrowingCallable call,
            final boolean liveDataChanged) throws IOException {
        String dataDir = mount.resolve("data").toRealPath().toString();
        return assertThatThrownBy(call)
                .isInstanceOfSatisfying(SnapshotFailedException.class,
                        failure -> assertThat(failure.liveDataChanged()).isEqualTo(liveDataChanged))
                .hasMessageContaining(PersistenceSettings.DATA_DIR)
                .hasMessageContaining(dataDir)
                .satisfies(failure -> assertThat(failure.getMessage())
                        .containsAnyOf("No space left on device", "not enough free disk"));
    }

    private void assertNoUploadLeft() throws IOException {
        try (var left = Files.list(mount.resolve("data"))) {
            assertThat(left.map(p -> p.getFileName().toString())).noneMatch(name -> name.endsWith(".rdb"));
        }
    }

    /** {@code mebibytes} keys of 1 MiB of random (incompressible) text each. */
    private static void writeRandomValues(final ControlConnection redis, final int mebibytes) {
        Random random = new Random(mebibytes);
        for (int i = 0; i < mebibytes; i++) {
            byte[] bytes = new byte[MIB / 4 * 3];
            random.nextBytes(bytes);
            Standalone.call(redis, "SET", "random:" + i, Base64.getEncoder().encodeToString(bytes));
        }
    }

    /** A write of {@code bytes} fails with a message naming the directory and keeping what is stored. */
    private AbstractThrowableAssert<?, ? extends Throwable> assertWriteFails(final SnapshotStore store,
            final int bytes, final Path data) throws IOException {
        return assertThatThrownBy(() -> store.write(rdb(bytes), Instant.now(), 1, "7.0.15", System.nanoTime()))
                .isInstanceOf(PersistenceException.class)
                .hasMessageContaining(data.toRealPath().toString())
                .hasMessageContaining("generations already stored are kept");
    }

    private Path rdb(final int bytes) throws IOException {
        Path file = Files.createTempFile(root, "dump", ".rdb");
        byte[] random = new byte[bytes];
        new Random(bytes).nextBytes(random); // incompressible, like a real RDB of varied values
        Files.write(file, random);
        return file;
    }

    private static void fill(final Path file, final long bytes) throws IOException {
        byte[] block = new byte[MIB];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long left = bytes; left > 0; left -= block.length) {
                out.write(block, 0, (int) Math.min(block.length, left));
            }
        }
    }

    private static void run(final String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor()).as("%s needs root or CAP_SYS_ADMIN (CI runs as root): %s",
                String.join(" ", command), output).isZero();
    }
}
