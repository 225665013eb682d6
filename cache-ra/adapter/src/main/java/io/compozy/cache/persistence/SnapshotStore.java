package io.compozy.cache.persistence;

import com.sleepycat.je.Database;
import com.sleepycat.je.DatabaseException;
import io.compozy.cache.config.PersistenceSettings;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * Snapshot generations in a Berkeley DB JE environment in {@code data_dir}: the one entry point the rest of
 * the adapter uses, over the {@link SnapshotEnvironment} (JE and the directory's lock), the
 * {@link GenerationFormat} (chunks, encryption, checksums), the {@link RetentionPolicy} and the
 * {@link CommitMarker}.
 *
 * <p>Two databases: {@code chunks}, keyed by (generation, index), holds a generation's RDB bytes in
 * 1 MiB pieces (AES-GCM sealed when a key is set); {@code generations}, keyed by generation, holds its
 * commit record ({@link StoredGeneration}). Chunks are written in transactions that are not synced;
 * the commit record is written last, alone, with {@code COMMIT_SYNC}. JE's log is append-only, so that
 * one fsync makes the chunks before it durable too, and a generation is visible exactly when its
 * record is: a crash or kill at any point leaves the previous generations intact and at worst some
 * orphan chunks, which the next open removes.
 *
 * <p>Writes and reads of chunks come from one thread at a time: the {@link SnapshotManager}'s snapshot
 * thread, or the starting adapter before that thread has work; {@link #generations()} and
 * {@link #lostNewest()} may be called from any thread (status, metrics). Every use of the JE handles holds
 * the environment's read lock, and reopening or closing it holds its write lock, so a status thread that
 * reopens an invalidated store never pulls the handles from under a running write or prune. The snapshot
 * thread is never interrupted: an interrupt during JE I/O invalidates the whole environment.
 *
 * <p>A full or failing disk fails the snapshot being written, never the stored generations. Below
 * {@link SnapshotEnvironment#FREE_DISK_FLOOR} free, JE refuses writes and stays usable; a write that fails
 * anyway (the disk filled faster than JE looked, an I/O error) invalidates JE's environment, and the store
 * reopens it at the next use, so snapshots work again once there is space without a server restart. The
 * chunks of the failed generation are removed before the next one is written.
 */
final class SnapshotStore implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(SnapshotStore.class.getName());

    private final Path dataDir;
    private final SnapshotEnvironment environment;
    private final GenerationFormat format;
    private final RetentionPolicy retention;
    private volatile long nextGeneration;
    /** A write failed part-way: its chunks are removed before the next write. */
    private volatile boolean partialLeft;
    /** The generations last listed, shown while the store cannot be reopened (they are on disk). */
    private volatile List<StoredGeneration> listed = List.of();
    /** The newest generation this store ever committed, from {@link CommitMarker}; 0 for a store without one. */
    private volatile long committedNewest;

    private SnapshotStore(final Path dataDir, final Optional<SnapshotCipher> cipher) {
        this.dataDir = dataDir;
        this.environment = new SnapshotEnvironment(dataDir);
        this.format = new GenerationFormat(environment, cipher);
        this.retention = new RetentionPolicy(environment, format);
    }

    /**
     * Opens (or creates) the store, removes orphan chunks of an interrupted snapshot and makes every
     * file private.
     *
     * @throws PersistenceException when another server uses the directory or JE cannot open it
     */
    static SnapshotStore open(final Path dataDir, final Optional<byte[]> key) {
        Path dir = SnapshotEnvironment.directory(dataDir);
        return SnapshotEnvironment.claim(dir, () -> {
            SnapshotStore store = new SnapshotStore(dir, key.map(SnapshotCipher::new));
            try {
                store.openEnvironment();
                return store;
            } catch (RuntimeException e) {
                store.environment.closeQuietly();
                throw e;
            }
        });
    }

    Path dataDir() {
        return dataDir;
    }

    boolean encrypting() {
        return format.encrypting();
    }

    /** The committed generations, newest first; a record that cannot be parsed is reported and skipped. */
    List<StoredGeneration> generations() {
        try {
            reopenIfInvalid();
        } catch (PersistenceException e) {
            return listed;
        }
        environment.readLock().lock();
        try {
            if (environment.isClosed()) {
                return listed;
            }
            return listGenerations();
        } finally {
            environment.readLock().unlock();
        }
    }

    private List<StoredGeneration> listGenerations() {
        List<StoredGeneration> found = format.list();
        listed = List.copyOf(found);
        return found;
    }

    /**
     * Stores the RDB file as the next generation and returns its commit record once it is synced.
     *
     * @param startNanos when the snapshot started ({@link System#nanoTime()}), for its duration
     */
    StoredGeneration write(final Path rdb, final Instant takenAt, final long keys, final String redisVersion,
                           final long startNanos) throws IOException {
        reopenIfInvalid();
        environment.readLock().lock();
        try {
            environment.requireOpen();
            if (partialLeft) {
                // JE looks at the free space again only when it cleans; without this a disk that was
                // freed would still count as full. Throws DiskLimitException while it is.
                environment.env().cleanLog();
                format.removeOrphanChunks();
                environment.reclaimSpace();
                partialLeft = false;
            }
            StoredGeneration record = format.write(nextGeneration++, rdb, takenAt, keys, redisVersion, startNanos);
            CommitMarker.write(dataDir, record.generation());
            committedNewest = record.generation();
            environment.restrictFiles();
            return record;
        } catch (DatabaseException e) {
            partialLeft = true;
            throw writeFailure(e);
        } catch (IOException | RuntimeException e) {
            partialLeft = true;
            throw e;
        } finally {
            environment.readLock().unlock();
        }
    }

    /**
     * What a failed write tells the operator: the directory, the cause in plain words, and that the stored
     * generations are kept.
     */
    private PersistenceException writeFailure(final DatabaseException e) {
        return new PersistenceException("Cannot write the snapshot to " + dataDir + " (" + PersistenceSettings.DATA_DIR
                + "): " + environment.plainCause(e) + ". The generations already stored are kept; free space (or fix"
                + " the disk) and the next snapshot retries", e);
    }

    /**
     * After JE invalidated the environment (an I/O error on write, e.g. ENOSPC), closes it and opens it
     * again: recovery drops the uncommitted tail and the orphan chunks, the committed generations stay.
     *
     * @throws PersistenceException when it cannot be opened yet (the disk is still full or failing)
     */
    private void reopenIfInvalid() {
        if (!environment.needsReopen()) {
            return;
        }
        environment.writeLock().lock();
        try {
            reopenLocked();
        } finally {
            environment.writeLock().unlock();
        }
    }

    private void reopenLocked() {
        if (!environment.needsReopen()) {
            return; // another thread reopened it first
        }
        LOG.warning("The snapshot store in " + dataDir + " failed on an earlier write; reopening it");
        environment.closeQuietly();
        try {
            openEnvironment();
        } catch (PersistenceException e) {
            environment.closeQuietly();
            throw new PersistenceException("Cannot reopen the snapshot store in " + dataDir + " ("
                    + PersistenceSettings.DATA_DIR + ") after a failed write: " + environment.plainCause(
                            e.getCause() == null ? e : e.getCause())
                    + ". The generations already stored are kept; the next snapshot retries", e);
        }
        LOG.info("The snapshot store in " + dataDir + " is open again: " + listGenerations().size() + " generation(s)");
    }

    /**
     * Reads the marker (a damaged one refuses the open before JE starts), opens JE, removes the orphan
     * chunks and numbers the next generation past everything seen.
     */
    private void openEnvironment() {
        committedNewest = CommitMarker.read(dataDir);
        environment.open(() -> {
            long newest = listGenerations().stream().mapToLong(StoredGeneration::generation).max().orElse(0);
            long newestChunk = format.removeOrphanChunks();
            nextGeneration = Math.max(Math.max(newest, newestChunk), committedNewest) + 1;
        });
    }

    /**
     * The newest generation this store committed when JE no longer has it (its files were damaged), or
     * empty when nothing committed was lost.
     */
    Optional<Long> lostNewest() {
        // The marker first: it moves only after its generation is committed, so the listing that follows
        // holds that generation. Read the other way round, a snapshot committing in between looks lost.
        long committed = committedNewest;
        long remaining = generations().stream().mapToLong(StoredGeneration::generation).max().orElse(0);
        return committed > remaining ? Optional.of(committed) : Optional.empty();
    }

    /**
     * Writes a generation's RDB bytes (decrypted) to {@code target}, checking its checksum and every
     * chunk's tag; on any mismatch the file is emptied and the generation reported corrupt.
     */
    void read(final StoredGeneration generation, final Path target) throws IOException {
        environment.readLock().lock();
        try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            format.readInto(generation, Optional.of(out));
        } catch (CorruptGenerationException | WrongKeyException e) {
            Files.write(target, new byte[0]); // no half-trusted bytes left behind
            throw e;
        } finally {
            environment.readLock().unlock();
        }
    }

    /**
     * Streams a generation's RDB bytes (decrypted) to {@code out}, checking every chunk's tag as it goes and
     * the SHA-256 after the last chunk, which is written only when it matches: on a mismatch fewer bytes than
     * the generation's length were written, and the caller must discard them. Holds the read lock like
     * every use of the handles, so a status thread cannot reopen the environment under a download.
     */
    void stream(final StoredGeneration generation, final OutputStream out) throws IOException {
        environment.readLock().lock();
        try {
            format.readInto(generation, Optional.of(out));
        } finally {
            environment.readLock().unlock();
        }
    }

    /** Whether the configured key (or none) opens the generation. */
    boolean opens(final StoredGeneration generation) {
        return format.opens(generation);
    }

    /** Reads a generation back without keeping it, to prove it restorable. */
    void verify(final StoredGeneration generation) throws IOException {
        environment.readLock().lock();
        try {
            format.readInto(generation, Optional.empty());
        } finally {
            environment.readLock().unlock();
        }
    }

    /**
     * Deletes the generations beyond the newest {@code retain}, then lets JE reclaim their space.
     *
     * @return the generations deleted
     */
    List<Long> prune(final int retain) {
        reopenIfInvalid();
        environment.readLock().lock();
        try {
            environment.requireOpen();
            return retention.prune(listGenerations(), retain);
        } finally {
            environment.readLock().unlock();
        }
    }

    /** Whether the environment still works (JE invalidates it after some failures, e.g. a bad checksum). */
    boolean isUsable() {
        return environment.isUsable();
    }

    @Override
    public void close() {
        environment.close();
    }

    /** For tests: the raw chunks database, to damage a generation on purpose. */
    Database chunksDatabase() {
        return environment.chunks();
    }
}
