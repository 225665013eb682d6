package io.compozy.cache.api;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The state of standalone persistence, for status pages and monitoring. Holds no secret.
 *
 * @param dataDir where the snapshot store lives
 * @param snapshotInterval how often the application's timer should take a snapshot
 * @param retain how many generations are kept
 * @param encrypted whether new snapshots are encrypted
 * @param snapshotInProgress whether a snapshot is being taken right now
 * @param lastSnapshot the newest snapshot this server took, if any
 * @param lastFailure why the newest attempt failed, when it did (cleared by a success)
 * @param restoredGeneration the generation loaded at start, if any
 * @param snapshotsTaken snapshots committed since start
 * @param snapshotsFailed snapshot attempts that failed since start
 * @param snapshotsSkipped snapshot requests skipped because one was already running
 * @param generationsSkippedOnRestore generations found corrupt or refused by Redis at start
 * @param failingSince when the current run of failed attempts began (the first failure after the last
 *     success, or after start); empty while the newest attempt succeeded or none was made
 */
public record PersistenceStatus(
        String dataDir,
        Duration snapshotInterval,
        int retain,
        boolean encrypted,
        boolean snapshotInProgress,
        Optional<SnapshotInfo> lastSnapshot,
        Optional<String> lastFailure,
        Optional<SnapshotInfo> restoredGeneration,
        long snapshotsTaken,
        long snapshotsFailed,
        long snapshotsSkipped,
        long generationsSkippedOnRestore,
        Optional<Instant> failingSince) {
}
