package io.compozy.cache.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * Snapshot control of standalone mode, from {@link CacheConnection#persistence()}. A snapshot is one
 * point-in-time cut of the whole keyspace (Redis BGSAVE), stored as a generation in the adapter's
 * Berkeley DB JE store; the adapter restores the newest valid one at start and takes a final one when
 * it stops.
 */
public interface Persistence {

    /**
     * Takes a snapshot now and returns once it is committed and synced to disk.
     *
     * @return the new generation, or empty when another snapshot was running (the request is skipped
     *     and counted in {@link PersistenceStatus#snapshotsSkipped()}; snapshots never overlap)
     * @throws SnapshotFailedException when the snapshot failed (the live data did not change); the message
     *     says why and holds no secret
     */
    Optional<SnapshotInfo> snapshot();

    /** The committed generations, newest first. */
    List<SnapshotInfo> generations();

    /** Counters, the last snapshot and the configuration in effect. */
    PersistenceStatus status();

    /** The append-only file's state, when the embedded server keeps one (docs/persistence.md). */
    default Optional<AppendOnlyStatus> appendOnly() {
        return Optional.empty();
    }

    /**
     * One stored generation, checked to be readable with the configured key (nothing is read yet).
     *
     * @throws NoSuchElementException when it is not stored
     * @throws SnapshotFailedException when the configured key cannot open it
     */
    SnapshotInfo generation(long generation);

    /**
     * Streams a generation as a standard RDB file (decrypted when encrypted) to {@code out}, checking every
     * chunk and the recorded SHA-256 as it goes. When the check fails part-way an IOException ends the
     * stream early: the bytes written are then not the generation, and must be discarded.
     *
     * @throws NoSuchElementException when it is not stored
     */
    void writeRdb(long generation, OutputStream out) throws IOException;

    /**
     * Stores an RDB file as a new generation, once all of it is read and checked (format version the
     * embedded Redis loads, complete, checksum, database 0 only). Nothing is stored when it fails. Does not
     * touch the live data: {@link #restore} does.
     *
     * @throws IllegalArgumentException when the file is not one the embedded Redis loads; the message says
     *     what is wrong with it
     * @throws IOException when reading {@code rdb} fails (the upload broke off)
     * @throws SnapshotFailedException when this server cannot store it (its data directory full or failing);
     *     nothing is stored and the live data did not change
     */
    SnapshotInfo storeRdb(InputStream rdb) throws IOException;

    /**
     * Replaces the live data with a stored generation: the embedded redis-server restarts on it, on the
     * same port with the same password, so the one client reconnects by itself (commands fail for the
     * moment it takes). Then a snapshot is taken, so the restored data is the newest generation.
     *
     * @return the snapshot taken of the restored data
     * @throws NoSuchElementException when it is not stored
     * @throws SnapshotFailedException when it cannot be restored, or the snapshot of the restored data fails;
     *     {@link SnapshotFailedException#liveDataChanged()} and the message say what the server runs on now
     */
    default SnapshotInfo restore(final long generation) {
        return restore(generation, restored -> { });
    }

    /**
     * {@link #restore(long)}, running {@code beforeServing} on the restored data before any application sees
     * it: on a client of its own, while the server refuses every other connection (they reconnect once it is
     * done). A failure of {@code beforeServing} fails the restore the same way a refused generation does.
     */
    SnapshotInfo restore(long generation, BeforeServing beforeServing);

    /** Work on restored data before anything else reads or writes it (the stores' key-layout migration). */
    @FunctionalInterface
    interface BeforeServing {
        void prepare(org.redisson.api.RedissonClient restored) throws Exception;
    }
}
