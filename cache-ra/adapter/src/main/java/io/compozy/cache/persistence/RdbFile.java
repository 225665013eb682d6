package io.compozy.cache.persistence;

import com.moilioncircle.redis.replicator.Configuration;
import com.moilioncircle.redis.replicator.RedisRdbReplicator;
import com.moilioncircle.redis.replicator.Replicator;
import com.moilioncircle.redis.replicator.event.PostRdbSyncEvent;
import com.moilioncircle.redis.replicator.io.RedisInputStream;
import com.moilioncircle.redis.replicator.rdb.DefaultRdbVisitor;
import com.moilioncircle.redis.replicator.rdb.datatype.AuxField;
import com.moilioncircle.redis.replicator.rdb.datatype.KeyValuePair;
import com.moilioncircle.redis.replicator.util.CRC64;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeSet;

/**
 * What an RDB file holds and whether the embedded Redis 7.0 can load it, found by reading all of it with
 * redis-replicator (never a parser of our own): the format version, the Redis that wrote it, the keys, the
 * end marker and the CRC64 checksum over the whole file. Used before an uploaded file becomes a generation,
 * and on what an import captures, so nothing Redis would refuse gets stored.
 */
public final class RdbFile {

    /** The newest RDB format the embedded Redis 7.0 loads. */
    public static final int EMBEDDED_RDB_VERSION = 10;

    /**
     * @param rdbVersion the RDB format version in the header
     * @param redisVersion the {@code redis-ver} the writer recorded, or "?" when it recorded none
     * @param keys how many keys the file holds (expired ones included: Redis drops them when it loads)
     * @param bytes the file's size
     */
    public record Summary(int rdbVersion, String redisVersion, long keys, long bytes) {
    }

    private RdbFile() {
    }

    /**
     * Reads the whole file and checks it.
     *
     * @throws InvalidRdbException naming what is wrong: not an RDB file, a format newer than the embedded
     *     Redis reads (with the Redis version that wrote it), truncated, damaged (checksum), keys outside
     *     database 0
     * @throws IOException when the file cannot be read at all
     */
    public static Summary inspect(final Path file) throws IOException {
        long size = Files.size(file);
        Reading reading = new Reading();
        Replicator replicator = new RedisRdbReplicator(Files.newInputStream(file), quiet());
        replicator.setRdbVisitor(new VersionVisitor(replicator, reading));
        replicator.addEventListener((source, event) -> {
            if (event instanceof KeyValuePair<?, ?> pair) {
                reading.keys++;
                if (pair.getDb() != null && pair.getDb().getDbNumber() != 0) {
                    reading.otherDatabases.add(pair.getDb().getDbNumber());
                }
            } else if (event instanceof AuxField aux && "redis-ver".equals(aux.getAuxKey())) {
                reading.redisVersion = aux.getAuxValue();
            } else if (event instanceof PostRdbSyncEvent end) {
                reading.checksum = OptionalLong.of(end.getChecksum());
            }
        });
        try {
            replicator.open();
        } catch (IOException | RuntimeException | AssertionError e) {
            if (reading.unknownVersion != null) {
                throw new InvalidRdbException("its RDB format is newer than any Redis this adapter knows ("
                        + reading.unknownVersion + "); the embedded Redis 7.0 reads format " + EMBEDDED_RDB_VERSION
                        + " and older");
            }
            if (reading.version.isEmpty()) {
                throw new InvalidRdbException("it is not an RDB file (it does not start with REDIS and a known format"
                        + " version: " + e.getMessage() + ")");
            }
            throw new InvalidRdbException("it cannot be read as " + describe(reading) + " after " + reading.keys
                    + " key(s): " + e.getMessage());
        }
        if (reading.version.isEmpty()) {
            throw new InvalidRdbException("it is not an RDB file (" + size + " bytes, no RDB header)");
        }
        if (reading.checksum.isEmpty()) {
            throw new InvalidRdbException("it is truncated: " + describe(reading) + " ends after " + size + " bytes and "
                    + reading.keys + " key(s), before the end marker");
        }
        long recorded = reading.checksum.getAsLong();
        // Redis writes 0 when rdbchecksum is off; otherwise the last 8 bytes are the CRC64 of all before them.
        if (recorded != 0 && recorded != crc64(file, size - 8)) {
            throw new InvalidRdbException("it is damaged: its CRC64 checksum does not match its content (" + size
                    + " bytes; bytes changed, or something follows the end marker)");
        }
        int version = reading.version.get();
        if (version > EMBEDDED_RDB_VERSION) {
            throw new InvalidRdbException(describe(reading) + " is newer than the embedded Redis 7.0 reads (format "
                    + EMBEDDED_RDB_VERSION + " and older); export it from a Redis 7.0, or copy the keys through"
                    + " commands");
        }
        if (!reading.otherDatabases.isEmpty()) {
            throw new InvalidRdbException("it holds keys in database(s) " + reading.otherDatabases + "; the adapter"
                    + " serves database 0 only, so they would be invisible");
        }
        return new Summary(version, reading.redisVersion, reading.keys, size);
    }

    /** "RDB format 11 (written by Redis 7.2.4)" with what the header and the aux fields say. */
    static String describe(final Reading reading) {
        return "RDB format " + reading.version.map(String::valueOf).orElse("?") + " (written by Redis "
                + ("?".equals(reading.redisVersion) ? writerOf(reading.version.orElse(0)) : reading.redisVersion) + ")";
    }

    /** Which Redis versions write an RDB format, for a file that does not say. */
    public static String writerOf(final int rdbVersion) {
        return switch (rdbVersion) {
            case 9 -> "5.0 to 6.2";
            case 10 -> "7.0";
            case 11 -> "7.2";
            case 12 -> "7.4 or later";
            default -> rdbVersion < 9 ? "older than 5.0" : "newer than 7.4";
        };
    }

    private static long crc64(final Path file, final long length) throws IOException {
        long sum = 0;
        byte[] buffer = new byte[1 << 16];
        long left = length;
        try (InputStream in = Files.newInputStream(file)) {
            while (left > 0) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    break;
                }
                sum = CRC64.crc64(buffer, 0, n, sum);
                left -= n;
            }
        }
        return sum;
    }

    private static Configuration quiet() {
        // A parse error is ours to report (as a 400 or a start failure), not the library's to log.
        return Configuration.defaultSetting().setUseDefaultExceptionListener(false);
    }

    /** What was read so far. */
    static final class Reading {
        Optional<Integer> version = Optional.empty();
        String redisVersion = "?";
        /** The library's words for a format version it does not know, else null. */
        String unknownVersion;
        long keys;
        OptionalLong checksum = OptionalLong.empty();
        final TreeSet<Long> otherDatabases = new TreeSet<>();
    }

    /** Redis-replicator's own visitor, remembering the header's format version (it refuses unknown ones). */
    private static final class VersionVisitor extends DefaultRdbVisitor {

        private final Reading reading;

        VersionVisitor(final Replicator replicator, final Reading reading) {
            super(replicator);
            this.reading = reading;
        }

        @Override
        public int applyVersion(final RedisInputStream in) throws IOException {
            int version;
            try {
                version = super.applyVersion(in);
            } catch (UnsupportedOperationException e) {
                reading.unknownVersion = e.getMessage();
                throw e;
            }
            reading.version = Optional.of(version);
            return version;
        }
    }
}
