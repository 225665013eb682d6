package io.compozy.cache.persistence;

import com.sleepycat.je.Cursor;
import com.sleepycat.je.CursorConfig;
import com.sleepycat.je.DatabaseEntry;
import com.sleepycat.je.DatabaseException;
import com.sleepycat.je.Durability;
import com.sleepycat.je.LockMode;
import com.sleepycat.je.OperationStatus;
import com.sleepycat.je.Transaction;
import com.sleepycat.je.TransactionConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;
import javax.crypto.AEADBadTagException;

/**
 * How a generation lies in the environment's two databases: its RDB bytes as 1 MiB chunks (sealed when a key
 * is set) with a SHA-256 over them, and the commit record that makes it exist; writing, reading back and
 * verifying them. The caller holds the environment's read lock.
 */
final class GenerationFormat {

    static final int CHUNK_BYTES = 1 << 20;

    // The store's logger, as before the split: logging configurations name SnapshotStore.
    private static final Logger LOG = Logger.getLogger(SnapshotStore.class.getName());
    private static final int CHUNKS_PER_TRANSACTION = 16;

    private final SnapshotEnvironment environment;
    private final Optional<SnapshotCipher> cipher;

    GenerationFormat(final SnapshotEnvironment environment, final Optional<SnapshotCipher> cipher) {
        this.environment = environment;
        this.cipher = cipher;
    }

    boolean encrypting() {
        return cipher.isPresent();
    }

    /** The committed generations, newest first; a record that cannot be parsed is reported and skipped. */
    List<StoredGeneration> list() {
        List<StoredGeneration> found = new ArrayList<>();
        DatabaseEntry key = new DatabaseEntry();
        DatabaseEntry data = new DatabaseEntry();
        try (Cursor cursor = environment.generations().openCursor(null, CursorConfig.READ_COMMITTED)) {
            while (cursor.getPrev(key, data, LockMode.DEFAULT) == OperationStatus.SUCCESS) {
                long generation = ByteBuffer.wrap(key.getData()).getLong();
                try {
                    found.add(StoredGeneration.deserialize(generation, data.getData()));
                } catch (IOException e) {
                    LOG.warning("Snapshot generation " + generation + " in " + environment.dataDir()
                            + " has an unreadable commit record (" + e.getMessage() + "); it is ignored");
                }
            }
        }
        return found;
    }

    /**
     * Stores the RDB file as the chunks of {@code generation} in unsynced transactions, then its commit record.
     *
     * @param startNanos when the snapshot started ({@link System#nanoTime()}), for its duration
     */
    StoredGeneration write(final long generation, final Path rdb, final Instant takenAt, final long keys,
                           final String redisVersion, final long startNanos) throws IOException {
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
                        txn = environment.env().beginTransaction(null, SnapshotEnvironment.noSync());
                    }
                    environment.chunks().put(txn, new DatabaseEntry(chunkKey(generation, index)),
                            new DatabaseEntry(value));
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
        Transaction commit = environment.env().beginTransaction(null,
                new TransactionConfig().setDurability(Durability.COMMIT_SYNC));
        try {
            environment.generations().put(commit, new DatabaseEntry(generationKey(generation)),
                    new DatabaseEntry(record.serialize()));
            commit.commit();
            commit = null;
        } finally {
            if (commit != null) {
                commit.abort();
            }
        }
        return record;
    }

    /** Whether the configured key (or none) opens the generation. */
    boolean opens(final StoredGeneration generation) {
        return !generation.encrypted() || cipher.isPresent() && cipher.get().matches(generation.keyCheck());
    }

    /**
     * Streams a generation's RDB bytes (decrypted) to {@code out}, or nowhere to verify it, checking every
     * chunk's tag as it goes and the SHA-256 and length after the last chunk. The last chunk is written
     * only once both match: a reader of a damaged generation (an HTTP download announced with the full
     * length) always gets fewer bytes than announced, never a complete-looking wrong file.
     */
    void readInto(final StoredGeneration generation, final Optional<OutputStream> out) throws IOException {
        long number = generation.generation();
        if (generation.encrypted() && (cipher.isEmpty() || !cipher.get().matches(generation.keyCheck()))) {
            throw new WrongKeyException(number, cipher.isPresent());
        }
        MessageDigest sha = sha256();
        long plainBytes = 0;
        byte[] heldBack = null;
        DatabaseEntry data = new DatabaseEntry();
        try {
            for (int index = 0; index < generation.chunks(); index++) {
                if (environment.chunks().get(null, new DatabaseEntry(chunkKey(number, index)), data,
                        LockMode.READ_COMMITTED) != OperationStatus.SUCCESS) {
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
                if (out.isPresent() && heldBack != null) {
                    out.get().write(heldBack);
                }
                heldBack = plain;
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
        if (out.isPresent() && heldBack != null) {
            out.get().write(heldBack);
        }
    }

    /** Deletes a generation's commit record and its chunks in {@code txn}. */
    void delete(final Transaction txn, final long generation) {
        environment.generations().delete(txn, new DatabaseEntry(generationKey(generation)));
        deleteChunks(txn, generation);
    }

    /** Removes chunks whose generation has no commit record; returns the highest generation seen. */
    long removeOrphanChunks() {
        long highest = 0;
        List<Long> orphans = new ArrayList<>();
        DatabaseEntry key = new DatabaseEntry();
        DatabaseEntry data = keysOnly();
        try (Cursor cursor = environment.chunks().openCursor(null, CursorConfig.READ_COMMITTED)) {
            while (cursor.getNext(key, data, LockMode.DEFAULT) == OperationStatus.SUCCESS) {
                long generation = ByteBuffer.wrap(key.getData()).getLong();
                highest = Math.max(highest, generation);
                if (!orphans.contains(generation) && environment.generations().get(null,
                        new DatabaseEntry(generationKey(generation)), keysOnly(), LockMode.READ_COMMITTED)
                        != OperationStatus.SUCCESS) {
                    orphans.add(generation);
                }
            }
        }
        for (long orphan : orphans) {
            Transaction txn = environment.env().beginTransaction(null, SnapshotEnvironment.noSync());
            deleteChunks(txn, orphan);
            txn.commit();
            LOG.info("Removed the chunks of snapshot generation " + orphan + " in " + environment.dataDir()
                    + ": it was never committed (the server stopped, or the write failed, while taking it)");
        }
        return highest;
    }

    private void deleteChunks(final Transaction txn, final long generation) {
        DatabaseEntry key = new DatabaseEntry(chunkKey(generation, 0));
        DatabaseEntry data = keysOnly();
        try (Cursor cursor = environment.chunks().openCursor(txn, null)) {
            OperationStatus status = cursor.getSearchKeyRange(key, data, LockMode.RMW);
            while (status == OperationStatus.SUCCESS && ByteBuffer.wrap(key.getData()).getLong() == generation) {
                cursor.delete();
                status = cursor.getNext(key, data, LockMode.RMW);
            }
        }
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
}
