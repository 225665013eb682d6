package io.compozy.cache.api;

import java.util.List;
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
     * @throws IllegalStateException when the snapshot failed; the message says why and holds no secret
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
}
