package io.compozy.cache.web.observe;

import io.compozy.cache.api.PersistenceStatus;
import io.compozy.cache.api.SnapshotInfo;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * How standalone snapshots are doing, for the persistence health check: {@code ok} when the newest
 * attempt succeeded (or none was made), {@code degraded} while attempts fail, {@code failing} once they
 * have failed for longer than the threshold (the only state that turns readiness DOWN).
 *
 * @param state ok, degraded or failing
 * @param lastGood the newest good snapshot: taken by this server, else the one restored at start
 * @param failingFor how long attempts have been failing, when the newest failed
 */
record SnapshotHealth(String state, Optional<SnapshotInfo> lastGood, Optional<Duration> failingFor) {

    static SnapshotHealth of(final PersistenceStatus status, final Instant now, final Duration threshold) {
        Optional<Duration> failingFor = status.failingSince().map(since -> Duration.between(since, now));
        String state = failingFor.isEmpty() ? "ok" : failingFor.get().compareTo(threshold) > 0 ? "failing" : "degraded";
        return new SnapshotHealth(state, status.lastSnapshot().or(status::restoredGeneration), failingFor);
    }

    boolean up() {
        return !"failing".equals(state);
    }
}
