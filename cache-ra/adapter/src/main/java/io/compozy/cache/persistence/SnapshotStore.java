package io.compozy.cache.persistence;

import com.sleepycat.je.CacheMode;
import com.sleepycat.je.CheckpointConfig;
import com.sleepycat.je.Cursor;
import com.sleepycat.je.CursorConfig;
import com.sleepycat.je.Database;
import com.sleepycat.je.DatabaseConfig;
import com.sleepycat.je.DatabaseEntry;
import com.sleepycat.je.DatabaseException;
import com.sleepycat.je.DiskLimitException;
import com.sleepycat.je.Durability;
import com.sleepycat.je.Environment;
import com.sleepycat.je.EnvironmentConfig;
import com.sleepycat.je.EnvironmentLockedException;
import com.sleepycat.je.LockMode;
import com.sleepycat.je.OperationStatus;
import com.sleepycat.je.Transaction;
import com.sleepycat.je.TransactionConfig;
import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.embedded.PrivateDirectory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;
import javax.crypto.AEADBadTagException;

/**
 * Snapshot generations in a Berkeley DB JE environment in {@code data_dir}.
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
 * {@link #lostNewest()} may be called from any thread (status, metrics). JE handles are thread-safe; what
 * is not is swapping them: every use of the handles holds {@link #handles}' read lock, and reopening or
 * closing the environment holds its write lock, so a status thread that reopens an invalidated store never
 * pulls the handles from under a running write or prune. The snapshot thread is never interrupted: an
 * interrupt during JE I/O invalidates the whole environment.
 *
 * <p>A full or failing disk fails the snapshot being written, never the stored generations. Below
 * {@link #FREE_DISK_FLOOR} free, JE refuses writes and stays usable; a write that fails anyway (the disk
 * filled faster than JE looked, an I/O error) invalidates JE's environment, and the store reopens it at
 * the next use, so snapshots work again once there is space without a server restart. The chunks of
 * the failed generation are removed before the next one is written.
 */
final class SnapshotStore implements AutoCloseable {

    static final int CHUNK_BYTES = 1 << 20;

    private static final Logger LOG = Logger.getLogger(SnapshotStore.class.getName());
    private static final int CHUNKS_PER_TRANSACTION = 16;
    /** JE refuses writes below this much free disk (its default, 5 GB, would stop small machines). */
    private static final long FREE_DISK_FLOOR = 64L << 20;
    private static final long CACHE_BYTES = 16L << 20;
    /**
     * A file beside JE's, rewritten after each commit with the newest committed generation: if JE's
     * recovery ever drops committed records (damaged log files), the loss shows instead of passing for
     * an empty or older store.
     */
    static final String MARKER = "newest-committed-generation";
    /** Data directories open in this JVM: JE shares one environment between handles of one process. */
    private static final Set<Path> OPEN = ConcurrentHashMap.newKeySet();
    /** How long to wait for an earlier instance of the adapter in this JVM to release the store. */
    private static final Duration PREVIOUS_INSTANCE_WAIT = Duration.ofSeconds(60);

    private final Path dataDir;
    private final Optional<SnapshotCipher> cipher;
    /** Read: using env/generations/chunks. Write: replacing or closing them. */
    private final ReentrantReadWriteLock handles = new ReentrantReadWriteLock();
    private volatile Environment env;
    private volatile Database generations;
    private volatile Database chunks;
    private volatile long nextGeneration;
    /** A write failed part-way: its chunks are removed before the next write. */
    private volatile boolean partialLeft;
    /** The generations last listed, shown while the store cannot be reopened (they are on disk). */
    private volatile List<StoredGeneration> listed = List.of();
    private volatile boolean closed;
    /** The newest generation this store ever committed, from {@link #MARKER}; 0 for a store without one. */
    private volatile long committedNewest;

    private SnapshotStore(final Path dataDir, final Optional<SnapshotCipher> cipher) {
        this.dataDir = dataDir;
        this.cipher = cipher;
    }

    /**
     * Opens (or creates) the store, removes orphan chunks of an interrupted snapshot and makes every
     * file private.
     *
     * @throws PersistenceException when another server uses the directory or JE cannot open it
     */
    static SnapshotStore open(final Path dataDir, final Optional<byte[]> key) {
        Path dir;
        try {
            dir = PrivateDirectory.ensure(dataDir).toRealPath();
        } catch (IOException e) {
            throw new PersistenceException("Cannot use " + PersistenceSettings.DATA_DIR + "=" + dataDir + ": "
                    + e.getMessage(), e);
        }
        if (!OPEN.add(dir)) {
            throw inUse(dir, null);
        }
        long deadline = System.nanoTime() + PREVIOUS_INSTANCE_WAIT.toNanos();
        boolean seenReleased = false;
        while (true) {
            // Liberty starts a replaced RAR while the previous instance still stops (final snapshot, close).
            // Wait for it without trying: every failed open leaks a thread (JE starts its environment's
            // java.util.Timer before it finds je.lck taken, and never cancels it).
            while (heldByThisProcess(dir) && System.nanoTime() < deadline && pause()) {
                LOG.fine(() -> "waiting for the previous adapter instance in this server to release " + dir);
            }
            SnapshotStore store = new SnapshotStore(dir, key.map(SnapshotCipher::new));
            try {
                store.openEnvironment();
                return store;
            } catch (RuntimeException e) {
                store.closeQuietly();
                // While this JVM holds the lock, and once more after seeing it released: the old instance may
                // have closed the store between our attempt and the check.
                boolean held = heldByThisProcess(dir);
                boolean retry = e.getCause() instanceof EnvironmentLockedException && (held || !seenReleased);
                if (!retry || System.nanoTime() > deadline || !pause()) {
                    OPEN.remove(dir);
                    throw e;
                }
                seenReleased = !held;
            }
        }
    }

    /** Whether this JVM has the directory's je.lck open: an earlier adapter instance (replaced RAR) still closing. */
    static boolean heldByThisProcess(final Path dir) {
        Path lock = dir.resolve("je.lck");
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.anyMatch(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(lock);
                } catch (IOException e) {
                    return false; // closed meanwhile
                }
            });
        } catch (IOException | UncheckedIOException e) {
            return false; // no /proc: cannot tell, fail as for another server
        }
    }

    private static boolean pause() {
        try {
            Thread.sleep(200);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    Path dataDir() {
        return dataDir;
    }

    boolean encrypting() {
        return cipher.isPresent();
    }

    /** The committed generations, newest first; a record that cannot be parsed is reported and skipped. */
    List<StoredGeneration> generations() {
        try {
            reopenIfInvalid();
        } catch (PersistenceException e) {
            return listed;
        }
        handles.readLock().lock();
        try {
            if (closed || generations == null) {
                return listed;
            }
            return listGenerations();
        } finally {
            handles.readLock().unlock();
        }
    }

    private List<StoredGeneration> listGenerations() {
        List<StoredGeneration> found = new ArrayList<>();
        DatabaseEntry key = new DatabaseEntry();
        DatabaseEntry data = new DatabaseEntry();
        try (Cursor cursor = generations.openCursor(null, CursorConfig.READ_COMMITTED)) {
            while (cursor.getPrev(key, data, LockMode.DEFAULT) == OperationStatus.SUCCESS) {
                long generation = ByteBuffer.wrap(key.getData()).getLong();
                try {
                    found.add(StoredGeneration.deserialize(generation, data.getData()));
                } catch (IOException e) {
                    LOG.warning("Snapshot generation " + generation + " in " + dataDir
                            + " has an unreadable commit record (" + e.getMessage() + "); it is ignored");
                }
            }
        }
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
        handles.readLock().lock();
        try {
            requireOpen();
            if (partialLeft) {
                // JE looks at the free space again only when it cleans; without this a disk that was
                // freed would still count as full. Throws DiskLimitException while it is.
                env.cleanLog();
                removeOrphanChunks();
                reclaimSpace();
                partialLeft = false;
            }
            return writeGeneration(rdb, takenAt, keys, redisVersion, startNanos);
        } catch (DatabaseException e) {
            partialLeft = true;
            throw writeFailure(e);
        } catch (IOException | RuntimeException e) {
            partialLeft = true;
            throw e;
        } finally {
            handles.readLock().unlock();
        }
    }

    private void requireOpen() {
        if (closed || env == null) {
            throw new PersistenceException("The snapshot store in " + dataDir + " is closed (the cache is stopping)");
        }
    }

    /**
     * What a failed write tells the operator: the directory, the cause in plain words (JE's own message
     * is a page of internals), and that the stored generations are kept.
     */
    private PersistenceException writeFailure(final DatabaseException e) {
        return new PersistenceException("Cannot write the snapshot to " + dataDir + " (" + PersistenceSettings.DATA_DIR
                + "): " + plainCause(e) + ". The generations already stored are kept; free space (or fix the disk)"
                + " and the next snapshot retries", e);
    }

    private String plainCause(final Throwable e) {
        if (e instanceof DiskLimitException) {
            return "not enough free disk: " + dataDir.toFile().getUsableSpace() / (1024 * 1024) + " MiB free, and the"
                    + " store keeps at least " + FREE_DISK_FLOOR / (1024 * 1024) + " MiB free";
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root instanceof IOException ? "I/O error: " + root.getMessage()
                : e.getClass().getSimpleName() + ": " + firstLine(e.getMessage());
    }

    private static String firstLine(final String message) {
        String text = String.valueOf(message);
        int end = text.indexOf('\n');
        return end < 0 ? text : text.substring(0, end);
    }

    /**
     * After JE invalidated the environment (an I/O error on write, e.g. ENOSPC), closes it and opens it
     * again: recovery drops the uncommitted tail and the orphan chunks, the committed generations stay.
     *
     * @throws PersistenceException when it cannot be opened yet (the disk is still full or failing)
     */
    private void reopenIfInvalid() {
        Environment current = env;
        if (closed || current != null && current.isValid()) {
            return;
        }
        handles.writeLock().lock();
        try {
            reopenLocked();
        } finally {
            handles.writeLock().unlock();
        }
    }

    private void reopenLocked() {
        Environment current = env;
        if (closed || current != null && current.isValid()) {
            return; // another thread reopened it first
        }
        LOG.warning("The snapshot store in " + dataDir + " failed on an earlier write; reopening it");
        closeQuietly();
        try {
            openEnvironment();
        } catch (PersistenceException e) {
            closeQuietly();
            throw new PersistenceException("Cannot reopen the snapshot store in " + dataDir + " ("
                    + PersistenceSettings.DATA_DIR + ") after a failed write: " + plainCause(e.getCause() == null ? e
                    : e.getCause()) + ". The generations already stored are kept; the next snapshot retries", e);
        }
        LOG.info("The snapshot store in " + dataDir + " is open again: " + listGenerations().size() + " generation(s)");
    }

    private StoredGeneration writeGeneration(final Path rdb, final Instant takenAt, final long keys,
                                             final String redisVersion, final long startNanos) throws IOException {
        long generation = nextGeneration++;
        long size = Files.size(rdb);
        int count = (int) ((size + CHUNK_BYTES - 1) / CHUNK_BYTES);
        MessageDigest sha = sha256();
        long stored = 0;
        byte[] buffer = new byte[CHUNK_BYTES];
        try (InputStream in = Files.newInputStream(rdb)) {
            Transaction txn = null;
            try {
                for (int index = 0; index < count; index++) {
                    int length = in.readNBytes(buffer, 0, CHUNK_BYTES);
                    if (length == 0) {
                        throw new IOException("the RDB file shrank while it was stored");
                    }
                    byte[] value = cipher.isPresent()
                            ? cipher.get().encryptChunk(buffer, length, generation, index, count)
                            : Arrays.copyOf(buffer, length);
                    sha.update(value);
                    stored += value.length;
                    if (txn == null) {
                        txn = env.beginTransaction(null, noSync());
                    }
                    chunks.put(txn, new DatabaseEntry(chunkKey(generation, index)), new DatabaseEntry(value));
                    if ((index + 1) % CHUNKS_PER_TRANSACTION == 0) {
                        txn.commit();
                        txn = null;
                    }
                }
                if (txn != null) {
                    txn.commit();
                    txn = null;
                }
            } finally {
                if (txn != null) {
                    txn.abort();
                }
            }
        }
        long durationMillis = (System.nanoTime() - startNanos) / 1_000_000;
        StoredGeneration record = new StoredGeneration(generation, takenAt, durationMillis, keys, size, stored, count,
                redisVersion, sha.digest(), cipher.isPresent(),
                cipher.map(SnapshotCipher::keyCheck).orElse(new byte[0]));
        // The commit: one record, one synced transaction. Before it the generation does not exist.
        Transaction commit = env.beginTransaction(null, new TransactionConfig().setDurability(Durability.COMMIT_SYNC));
        try {
            generations.put(commit, new DatabaseEntry(generationKey(generation)),
                    new DatabaseEntry(record.serialize()));
            commit.commit();
            commit = null;
        } finally {
            if (commit != null) {
                commit.abort();
            }
        }
        mark(generation);
        restrictFiles();
        return record;
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

    private void mark(final long generation) throws IOException {
        Path partial = dataDir.resolve(MARKER + ".partial");
        try (FileChannel channel = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            channel.write(ByteBuffer.wrap((generation + "\n").getBytes(StandardCharsets.US_ASCII)));
            channel.force(true);
        }
        Files.move(partial, dataDir.resolve(MARKER), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
        committedNewest = generation;
    }

    /**
     * The marker's generation; 0 when there is none (a new store, or one written before markers existed).
     * A marker that exists but cannot be read fails the open: reading it as 0 would silently switch off
     * the check that a committed generation was lost.
     */
    static long readMarker(final Path dir) {
        Path marker = dir.resolve(MARKER);
        String text;
        try {
            text = Files.readString(marker, StandardCharsets.US_ASCII).trim();
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException e) {
            throw new PersistenceException("Cannot read " + marker + " (in " + PersistenceSettings.DATA_DIR + "): "
                    + e.getMessage() + ". It records the newest committed snapshot so that losing one is noticed;"
                    + " the store is not opened without it. Fix the file's permissions, or delete the file if you"
                    + " know no generation was lost (docs/persistence.md)", e);
        }
        try {
            long generation = Long.parseLong(text);
            if (generation < 0) {
                throw new NumberFormatException("negative");
            }
            return generation;
        } catch (NumberFormatException e) {
            throw new PersistenceException(marker + " (in " + PersistenceSettings.DATA_DIR + ") does not hold a"
                    + " generation number (" + Math.min(text.length(), 64) + " characters that are not one). It"
                    + " records the newest committed snapshot so that losing one is noticed; the store is not"
                    + " opened with a damaged marker. Delete the file if you know no generation was lost"
                    + " (docs/persistence.md)", e);
        }
    }

    /**
     * Writes a generation's RDB bytes (decrypted) to {@code target}, checking its checksum and every
     * chunk's tag; on any mismatch the file is emptied and the generation reported corrupt.
     */
    void read(final StoredGeneration generation, final Path target) throws IOException {
        handles.readLock().lock();
        try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            readInto(generation, Optional.of(out));
        } catch (CorruptGenerationException | WrongKeyException e) {
            Files.write(target, new byte[0]); // no half-trusted bytes left behind
            throw e;
        } finally {
            handles.readLock().unlock();
        }
    }

    /**
     * Streams a generation's RDB bytes (decrypted) to {@code out}, checking every chunk's tag as it goes and
     * the SHA-256 after the last chunk: on a mismatch the bytes written are not the generation, and the
     * caller must discard them.
     */
    void stream(final StoredGeneration generation, final OutputStream out) throws IOException {
        readInto(generation, Optional.of(out));
    }

    /** Whether the configured key (or none) opens the generation. */
    boolean opens(final StoredGeneration generation) {
        return !generation.encrypted() || cipher.isPresent() && cipher.get().matches(generation.keyCheck());
    }

    /** Reads a generation back without keeping it, to prove it restorable. */
    void verify(final StoredGeneration generation) throws IOException {
        handles.readLock().lock();
        try {
            readInto(generation, Optional.empty());
        } finally {
            handles.readLock().unlock();
        }
    }

    /**
     * Deletes the generations beyond the newest {@code retain}, then lets JE reclaim their space.
     *
     * @return the generations deleted
     */
    List<Long> prune(final int retain) {
        reopenIfInvalid();
        handles.readLock().lock();
        try {
            requireOpen();
            return pruneOpen(retain);
        } finally {
            handles.readLock().unlock();
        }
    }

    private List<Long> pruneOpen(final int retain) {
        List<StoredGeneration> all = listGenerations();
        List<Long> deleted = new ArrayList<>();
        for (StoredGeneration old : all.subList(Math.min(retain, all.size()), all.size())) {
            Transaction txn = env.beginTransaction(null, noSync());
            try {
                generations.delete(txn, new DatabaseEntry(generationKey(old.generation())));
                deleteChunks(txn, old.generation());
                txn.commit();
                txn = null;
                deleted.add(old.generation());
            } finally {
                if (txn != null) {
                    txn.abort();
                }
            }
        }
        if (!deleted.isEmpty()) {
            reclaimSpace();
        }
        return deleted;
    }

    /** Whether the environment still works (JE invalidates it after some failures, e.g. a bad checksum). */
    boolean isUsable() {
        Environment current = env;
        return current != null && current.isValid();
    }

    @Override
    public void close() {
        handles.writeLock().lock();
        try {
            closed = true;
            closeQuietly();
        } finally {
            handles.writeLock().unlock();
            OPEN.remove(dataDir);
        }
    }

    private void openEnvironment() {
        committedNewest = readMarker(dataDir);
        EnvironmentConfig config = new EnvironmentConfig().setAllowCreate(true).setTransactional(true);
        config.setDurability(Durability.COMMIT_SYNC);
        config.setCacheSize(CACHE_BYTES);
        config.setConfigParam(EnvironmentConfig.FREE_DISK, Long.toString(FREE_DISK_FLOOR))
                // The stats thread needs --add-exports java.management/sun.management on Java 17 and only
                // logs an error without it; the adapter does not use JE statistics.
                .setConfigParam(EnvironmentConfig.STATS_COLLECT, "false")
                .setConfigParam(EnvironmentConfig.FILE_LOGGING_LEVEL, "WARNING")
                // JE's recovery otherwise treats a checksum error as the end of the log and silently drops
                // every later commit: the store would look empty and the server start with nothing.
                .setConfigParam(EnvironmentConfig.HALT_ON_COMMIT_AFTER_CHECKSUMEXCEPTION, "true");
        try {
            env = new Environment(dataDir.toFile(), config);
            DatabaseConfig dbConfig = new DatabaseConfig().setAllowCreate(true).setTransactional(true);
            generations = env.openDatabase(null, "generations", dbConfig);
            // A chunk is written once and read once: keep it out of the small JE cache.
            chunks = env.openDatabase(null, "chunks", dbConfig.clone().setCacheMode(CacheMode.EVICT_LN));
            long newest = listGenerations().stream().mapToLong(StoredGeneration::generation).max().orElse(0);
            long newestChunk = removeOrphanChunks();
            nextGeneration = Math.max(Math.max(newest, newestChunk), committedNewest) + 1;
        } catch (EnvironmentLockedException e) {
            throw inUse(dataDir, e);
        } catch (DatabaseException e) {
            throw new PersistenceException("The snapshot store in " + dataDir + " (" + PersistenceSettings.DATA_DIR
                    + ") cannot be opened: " + e.getMessage() + ". Its files may be damaged: move the directory"
                    + " aside and restore a backup, or start empty (see docs/persistence.md)", e);
        }
        restrictFiles();
    }

    /** Removes chunks whose generation has no commit record; returns the highest generation seen. */
    private long removeOrphanChunks() {
        long highest = 0;
        List<Long> orphans = new ArrayList<>();
        DatabaseEntry key = new DatabaseEntry();
        DatabaseEntry data = keysOnly();
        try (Cursor cursor = chunks.openCursor(null, CursorConfig.READ_COMMITTED)) {
            while (cursor.getNext(key, data, LockMode.DEFAULT) == OperationStatus.SUCCESS) {
                long generation = ByteBuffer.wrap(key.getData()).getLong();
                highest = Math.max(highest, generation);
                if (!orphans.contains(generation) && generations.get(null,
                        new DatabaseEntry(generationKey(generation)), keysOnly(), LockMode.READ_COMMITTED)
                        != OperationStatus.SUCCESS) {
                    orphans.add(generation);
                }
            }
        }
        for (long orphan : orphans) {
            Transaction txn = env.beginTransaction(null, noSync());
            deleteChunks(txn, orphan);
            txn.commit();
            LOG.info("Removed the chunks of snapshot generation " + orphan + " in " + dataDir
                    + ": it was never committed (the server stopped, or the write failed, while taking it)");
        }
        return highest;
    }

    private void readInto(final StoredGeneration generation, final Optional<OutputStream> out) throws IOException {
        long number = generation.generation();
        if (generation.encrypted() && (cipher.isEmpty() || !cipher.get().matches(generation.keyCheck()))) {
            throw new WrongKeyException(number, cipher.isPresent());
        }
        MessageDigest sha = sha256();
        long plainBytes = 0;
        DatabaseEntry data = new DatabaseEntry();
        try {
            for (int index = 0; index < generation.chunks(); index++) {
                if (chunks.get(null, new DatabaseEntry(chunkKey(number, index)), data, LockMode.READ_COMMITTED)
                        != OperationStatus.SUCCESS) {
                    throw new CorruptGenerationException(number, "chunk " + index + " of " + generation.chunks()
                            + " is missing");
                }
                byte[] value = data.getData();
                sha.update(value);
                byte[] plain = value;
                if (generation.encrypted()) {
                    try {
                        plain = cipher.get().decryptChunk(value, number, index, generation.chunks());
                    } catch (AEADBadTagException e) {
                        throw new CorruptGenerationException(number, "chunk " + index + " fails authentication");
                    }
                }
                plainBytes += plain.length;
                if (out.isPresent()) {
                    out.get().write(plain);
                }
            }
        } catch (DatabaseException e) {
            throw new CorruptGenerationException(number, "the store cannot read it (" + e.getMessage() + ")", e);
        }
        if (!MessageDigest.isEqual(sha.digest(), generation.sha256())) {
            throw new CorruptGenerationException(number, "its SHA-256 does not match the one recorded at commit");
        }
        if (plainBytes != generation.bytes()) {
            throw new CorruptGenerationException(number, plainBytes + " bytes read, " + generation.bytes()
                    + " recorded");
        }
    }

    private void deleteChunks(final Transaction txn, final long generation) {
        DatabaseEntry key = new DatabaseEntry(chunkKey(generation, 0));
        DatabaseEntry data = keysOnly();
        try (Cursor cursor = chunks.openCursor(txn, null)) {
            OperationStatus status = cursor.getSearchKeyRange(key, data, LockMode.RMW);
            while (status == OperationStatus.SUCCESS && ByteBuffer.wrap(key.getData()).getLong() == generation) {
                cursor.delete();
                status = cursor.getNext(key, data, LockMode.RMW);
            }
        }
    }

    /** Cleans the log files the deleted generations leave mostly empty and removes them at a checkpoint. */
    private void reclaimSpace() {
        try {
            env.cleanLog();
            env.checkpoint(new CheckpointConfig().setForce(true));
        } catch (DatabaseException e) {
            LOG.log(Level.WARNING, "Could not reclaim the space of deleted snapshot generations in " + dataDir, e);
        }
    }

    /** JE creates files with the process umask; the data is as sensitive as the cache itself. */
    private void restrictFiles() {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dataDir)) {
            for (Path file : files) {
                if (Files.isRegularFile(file)) {
                    PrivateDirectory.restrictFile(file);
                }
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "Could not restrict the permissions of the files in " + dataDir, e);
        }
    }

    private void closeQuietly() {
        List<AutoCloseable> handles = new ArrayList<>();
        if (chunks != null) {
            handles.add(chunks::close);
        }
        if (generations != null) {
            handles.add(generations::close);
        }
        if (env != null) {
            handles.add(env::close);
        }
        boolean failed = env != null && !env.isValid();
        for (AutoCloseable handle : handles) {
            try {
                handle.close();
            } catch (Exception e) {
                // Closing an environment JE already invalidated rethrows the cause, already reported.
                LOG.log(failed ? Level.FINE : Level.WARNING, "Closing the snapshot store in " + dataDir, e);
            }
        }
        chunks = null;
        generations = null;
        env = null;
    }

    private static PersistenceException inUse(final Path dir, final Throwable cause) {
        return new PersistenceException("The snapshot store in " + dir + " (" + PersistenceSettings.DATA_DIR
                + ") is in use by another server (its lock file je.lck is held). Two servers must never share a"
                + " data directory: stop the other one, or give this server its own "
                + PersistenceSettings.DATA_DIR + ".", cause);
    }

    private static TransactionConfig noSync() {
        return new TransactionConfig().setDurability(Durability.COMMIT_WRITE_NO_SYNC);
    }

    private static DatabaseEntry keysOnly() {
        DatabaseEntry data = new DatabaseEntry();
        data.setPartial(0, 0, true);
        return data;
    }

    static byte[] generationKey(final long generation) {
        return ByteBuffer.allocate(8).putLong(generation).array();
    }

    static byte[] chunkKey(final long generation, final int index) {
        return ByteBuffer.allocate(12).putLong(generation).putInt(index).array();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available in this JVM", e);
        }
    }

    /** For tests: the raw chunks database, to damage a generation on purpose. */
    Database chunksDatabase() {
        return chunks;
    }
}
