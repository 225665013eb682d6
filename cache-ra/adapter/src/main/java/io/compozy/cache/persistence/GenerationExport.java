package io.compozy.cache.persistence;

import io.compozy.cache.api.SnapshotInfo;
import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.embedded.PrivateDirectory;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A stored generation out as a plain Redis RDB file: decrypted when it was encrypted, its SHA-256 and every
 * chunk's tag checked while it streams. What a redis-server, {@code redis-check-rdb} or any tool that reads
 * RDB files accepts.
 *
 * <p>Two uses: the running adapter's download endpoint (through {@link SnapshotManager}), and the offline
 * command ({@link #openOffline}) on the data directory of a stopped server.
 */
public final class GenerationExport implements AutoCloseable {

    private final SnapshotStore store;
    private final boolean ownsStore;

    GenerationExport(final SnapshotStore store, final boolean ownsStore) {
        this.store = store;
        this.ownsStore = ownsStore;
    }

    /**
     * Opens the snapshot store of a stopped server for reading.
     *
     * @param key the encryption key's 32 bytes when the generations are encrypted
     * @throws PersistenceException when the directory does not exist, a running server holds it, or JE cannot
     *     open it
     */
    public static GenerationExport openOffline(final Path dataDir, final Optional<byte[]> key) {
        if (!Files.isDirectory(dataDir)) {
            throw new PersistenceException(dataDir + " is not a directory; give the server's "
                    + PersistenceSettings.DATA_DIR);
        }
        return new GenerationExport(SnapshotStore.open(dataDir, key), true);
    }

    /** The committed generations, newest first. */
    public List<SnapshotInfo> generations() {
        return store.generations().stream().map(StoredGeneration::toInfo).toList();
    }

    /**
     * Finds a generation: the named one, or the newest when none is named.
     *
     * @throws PersistenceException naming the generation when it is not stored (or none is)
     */
    public SnapshotInfo find(final OptionalLong generation) {
        return stored(generation).toInfo();
    }

    /** Whether the key given at open (or none) opens the generation; false for an encrypted one without it. */
    public boolean keyOpens(final long generation) {
        return store.opens(stored(OptionalLong.of(generation)));
    }

    /**
     * Reads the generation back whole (decrypting and checking every chunk and its SHA-256) without keeping a
     * byte of it: to know it is intact before streaming it somewhere that cannot take half of it back.
     *
     * @throws PersistenceException when the generation is not stored
     * @throws IOException when it cannot be read back intact, with the key
     */
    public void verify(final long generation) throws IOException {
        store.verify(stored(OptionalLong.of(generation)));
    }

    /**
     * Writes the generation's RDB bytes to {@code out}. A corrupt chunk, a wrong key or a checksum that does
     * not match fails with an IOException before the last byte: a caller streaming to a client must then
     * abort the transfer (a file must be deleted), never pass what was written as complete.
     *
     * @throws PersistenceException when the generation is not stored
     * @throws IOException when it cannot be read back intact, with the key, or written to {@code out}
     */
    public SnapshotInfo writeRdb(final OptionalLong generation, final OutputStream out) throws IOException {
        StoredGeneration chosen = stored(generation);
        store.stream(chosen, out);
        return chosen.toInfo();
    }

    /**
     * Writes the generation to a new file (mode 0600), removed again when it cannot be read back intact.
     *
     * @throws IOException as {@link #writeRdb}, or when the file exists already
     */
    public SnapshotInfo writeRdb(final OptionalLong generation, final Path file) throws IOException {
        StoredGeneration chosen = stored(generation);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PrivateDirectory.FILE));
        try {
            store.read(chosen, file);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(file);
            throw e;
        }
        return chosen.toInfo();
    }

    private StoredGeneration stored(final OptionalLong generation) {
        List<StoredGeneration> all = store.generations();
        if (generation.isEmpty()) {
            return all.stream().findFirst().orElseThrow(() -> new PersistenceException("The snapshot store in "
                    + store.dataDir() + " holds no generation"));
        }
        return all.stream().filter(g -> g.generation() == generation.getAsLong()).findFirst()
                .orElseThrow(() -> new PersistenceException("Generation " + generation.getAsLong()
                        + " is not stored in " + store.dataDir() + "; stored: " + all.stream()
                        .map(g -> Long.toString(g.generation())).toList()));
    }

    /** Closes the store when this export opened it (offline); the running adapter's store stays open. */
    @Override
    public void close() {
        if (ownsStore) {
            store.close();
        }
    }
}
