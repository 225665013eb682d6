package io.compozy.cache.web.admin;

import io.compozy.cache.api.AppendOnlyStatus;
import io.compozy.cache.api.PersistenceStatus;
import io.compozy.cache.api.SnapshotInfo;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import java.util.Optional;

/** The JSON shape of snapshots and persistence state, shared by the admin endpoints. Holds no secret. */
final class SnapshotJson {

    private SnapshotJson() {
    }

    static JsonObject generation(final SnapshotInfo info) {
        return Json.createObjectBuilder()
                .add("generation", info.generation())
                .add("takenAt", info.takenAt().toString())
                .add("keys", info.keys())
                .add("bytes", info.bytes())
                .add("durationMillis", info.durationMillis())
                .add("redisVersion", info.redisVersion())
                .add("sha256", info.sha256())
                .add("encrypted", info.encrypted())
                .build();
    }

    /** {@code {"enabled": false}} when the adapter has no persistence (distributed mode or turned off). */
    static JsonObject status(final Optional<PersistenceStatus> status) {
        if (status.isEmpty()) {
            return Json.createObjectBuilder().add("enabled", false).build();
        }
        PersistenceStatus s = status.get();
        JsonObjectBuilder json = Json.createObjectBuilder()
                .add("enabled", true)
                .add("dataDir", s.dataDir())
                .add("snapshotInterval", s.snapshotInterval().toString())
                .add("retain", s.retain())
                .add("encrypted", s.encrypted())
                .add("snapshotInProgress", s.snapshotInProgress())
                .add("snapshotsTaken", s.snapshotsTaken())
                .add("snapshotsFailed", s.snapshotsFailed())
                .add("snapshotsSkipped", s.snapshotsSkipped())
                .add("generationsSkippedOnRestore", s.generationsSkippedOnRestore());
        s.lastSnapshot().ifPresent(last -> json.add("lastSnapshot", generation(last)));
        s.lastFailure().ifPresent(failure -> json.add("lastFailure", failure));
        s.restoredGeneration().ifPresent(restored -> json.add("restoredGeneration", generation(restored)));
        return json.build();
    }

    /** The append-only file's state, Redis's numbers included ({@code -1} / {@code unknown} when it did not answer). */
    static JsonObject appendOnly(final AppendOnlyStatus aof) {
        return Json.createObjectBuilder()
                .add("fsync", aof.fsync())
                .add("directory", aof.directory())
                .add("loadedFrom", aof.loadedFrom())
                .add("truncatedBytesOnLoad", aof.truncatedBytesOnLoad())
                .add("enabled", aof.enabled())
                .add("sizeBytes", aof.sizeBytes())
                .add("rewriteInProgress", aof.rewriteInProgress())
                .add("rewrites", aof.rewrites())
                .add("lastRewriteSeconds", aof.lastRewriteSeconds())
                .add("lastRewriteStatus", aof.lastRewriteStatus())
                .add("lastWriteStatus", aof.lastWriteStatus())
                .add("delayedFsyncs", aof.delayedFsyncs())
                .build();
    }
}
