package io.compozy.cache.api;

import java.time.Instant;

/**
 * One committed snapshot generation of standalone mode. Holds no secret and no data.
 *
 * @param generation the generation number, increasing with each snapshot
 * @param takenAt when Redis forked for the snapshot (the point in time it captures)
 * @param keys how many keys the server held at that point
 * @param bytes the size of the snapshot (the Redis RDB, before any encryption)
 * @param redisVersion the version of the redis-server that wrote it
 * @param sha256 hex SHA-256 of the bytes as stored (the ciphertext when encrypted)
 * @param encrypted whether the generation is encrypted with AES-256-GCM
 * @param durationMillis how long taking it took, from BGSAVE to the synced commit
 */
public record SnapshotInfo(
        long generation,
        Instant takenAt,
        long keys,
        long bytes,
        String redisVersion,
        String sha256,
        boolean encrypted,
        long durationMillis) {
}
