package io.compozy.cache.persistence;

import io.compozy.cache.config.PersistenceSettings;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * A file beside JE's, rewritten after each commit with the newest committed generation: if JE's recovery ever
 * drops committed records (damaged log files), the loss shows instead of passing for an empty or older store.
 */
final class CommitMarker {

    static final String FILE = "newest-committed-generation";

    private CommitMarker() {
    }

    /** Records {@code generation} as the newest committed one, durably and atomically. */
    static void write(final Path dir, final long generation) throws IOException {
        Path partial = dir.resolve(FILE + ".partial");
        try (FileChannel channel = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            channel.write(ByteBuffer.wrap((generation + "\n").getBytes(StandardCharsets.US_ASCII)));
            channel.force(true);
        }
        Files.move(partial, dir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * The marker's generation; 0 when there is none (a new store, or one written before markers existed).
     * A marker that exists but cannot be read fails the open: reading it as 0 would silently switch off
     * the check that a committed generation was lost.
     */
    static long read(final Path dir) {
        Path marker = dir.resolve(FILE);
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
}
