package io.compozy.cache.persistence;

import io.compozy.cache.api.SnapshotInfo;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.HexFormat;

/**
 * The commit record of one generation: written last, in the transaction that makes the generation
 * visible, so a generation without it was never completed.
 *
 * @param sha256 SHA-256 over the chunk values as stored, in order (the ciphertext when encrypted)
 * @param keyCheck the cipher's key check when encrypted, else empty
 */
record StoredGeneration(
        long generation,
        Instant takenAt,
        long durationMillis,
        long keys,
        long bytes,
        long storedBytes,
        int chunks,
        String redisVersion,
        byte[] sha256,
        boolean encrypted,
        byte[] keyCheck) {

    private static final int FORMAT = 1;

    SnapshotInfo toInfo() {
        return new SnapshotInfo(generation, takenAt, keys, bytes, redisVersion, HexFormat.of().formatHex(sha256),
                encrypted, durationMillis);
    }

    byte[] serialize() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FORMAT);
            out.writeLong(takenAt.toEpochMilli());
            out.writeLong(durationMillis);
            out.writeLong(keys);
            out.writeLong(this.bytes);
            out.writeLong(storedBytes);
            out.writeInt(chunks);
            out.writeUTF(redisVersion);
            out.writeShort(sha256.length);
            out.write(sha256);
            out.writeBoolean(encrypted);
            out.writeShort(keyCheck.length);
            out.write(keyCheck);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** @throws IOException when the record is not one this version wrote (damaged or from the future) */
    static StoredGeneration deserialize(final long generation, final byte[] data) throws IOException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            int format = in.readUnsignedByte();
            if (format != FORMAT) {
                throw new IOException("unknown record format " + format);
            }
            Instant takenAt = Instant.ofEpochMilli(in.readLong());
            long duration = in.readLong();
            long keys = in.readLong();
            long bytes = in.readLong();
            long stored = in.readLong();
            int chunks = in.readInt();
            String version = in.readUTF();
            byte[] sha = in.readNBytes(in.readUnsignedShort());
            boolean encrypted = in.readBoolean();
            byte[] keyCheck = in.readNBytes(in.readUnsignedShort());
            if (sha.length != 32 || chunks < 0 || in.available() != 0) {
                throw new IOException("inconsistent record");
            }
            return new StoredGeneration(generation, takenAt, duration, keys, bytes, stored, chunks, version, sha,
                    encrypted, keyCheck);
        }
    }
}
