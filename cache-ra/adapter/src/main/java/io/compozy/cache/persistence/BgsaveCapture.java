package io.compozy.cache.persistence;

import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.redisson.client.protocol.RedisCommand;
import org.redisson.client.protocol.RedisCommands;
import org.redisson.client.protocol.RedisStrictCommand;

/**
 * The capture half of a snapshot: Redis's own {@code BGSAVE} on the embedded server, waited for. The server
 * forks, the child writes the keyspace as it was at the fork (every type, every TTL as an absolute time,
 * MULTI/EXEC and scripts never torn) to the run directory's RDB file while the parent keeps serving.
 * {@link SnapshotManager} then stores that file as a generation.
 */
final class BgsaveCapture {

    private static final long POLL_START_MS = 5;
    private static final long POLL_MAX_MS = 100;
    private static final Duration BGSAVE_BASE_WAIT = Duration.ofMinutes(1);
    private static final long BGSAVE_BYTES_PER_SECOND = 10L << 20;
    /** BGSAVE keeping its status reply, which tells whether the save started (RedisCommands.BGSAVE drops it). */
    private static final RedisCommand<String> BGSAVE = new RedisStrictCommand<>("BGSAVE");
    /** How long a snapshot waits for an AOF rewrite to end before it gives up (and counts as failed). */
    private static final Duration REWRITE_WAIT = Duration.ofMinutes(5);

    private BgsaveCapture() {
    }

    /** What one BGSAVE captured. */
    record Capture(Instant takenAt, long keys, String redisVersion) {
    }

    /**
     * Runs BGSAVE and waits for it, at most {@link #bgsaveDeadline} (sized to the dataset). BGSAVE and
     * INFO travel together, so INFO reads the key count Redis recorded at the fork
     * ({@code current_save_keys_total}) before the child can be reaped. The wait ends at once when the
     * server exits (a restart must not queue behind a snapshot of a server that is gone) or the thread
     * is interrupted.
     */
    static Capture run(final EmbeddedRedisServer server) throws IOException {
        try (ControlConnection redis = ControlConnection.open(server.host(), server.port(), server.password())) {
            var bgsave = redis.command(BGSAVE);
            var persistence = redis.command(RedisCommands.INFO_PERSISTENCE);
            var about = redis.command(RedisCommands.INFO_SERVER);
            var memory = redis.command(RedisCommands.INFO_MEMORY);
            try {
                redis.pipeline(bgsave, persistence, about, memory);
            } catch (IOException e) {
                if (!AppendOnlyFile.refusedForRewrite(e)) {
                    throw e;
                }
                // An AOF rewrite (a fork too) runs: Redis forks one child at a time. Wait for it, then ask again.
                AppendOnlyFile.awaitNoRewrite(redis, REWRITE_WAIT);
                bgsave = redis.command(BGSAVE);
                persistence = redis.command(RedisCommands.INFO_PERSISTENCE);
                about = redis.command(RedisCommands.INFO_SERVER);
                memory = redis.command(RedisCommands.INFO_MEMORY);
                redis.pipeline(bgsave, persistence, about, memory);
            }
            Instant takenAt = Instant.now();
            String started = bgsave.getPromise().join();
            if (!String.valueOf(started).startsWith("Background saving started")) {
                throw new IOException("BGSAVE did not start: " + started);
            }
            long keys = Long.parseLong(persistence.getPromise().join().getOrDefault("current_save_keys_total", "-1"));
            String version = about.getPromise().join().getOrDefault("redis_version", "?");
            long usedMemory = Long.parseLong(memory.getPromise().join().getOrDefault("used_memory", "0"));
            Duration limit = bgsaveDeadline(usedMemory);
            awaitBgsave(server, redis, System.nanoTime() + limit.toNanos(), limit);
            return new Capture(takenAt, keys, version);
        }
    }

    /** A minute, plus a second per 10 MB in memory: far above what a healthy disk needs. */
    static Duration bgsaveDeadline(final long usedMemoryBytes) {
        return BGSAVE_BASE_WAIT.plusSeconds(Math.max(0, usedMemoryBytes) / BGSAVE_BYTES_PER_SECOND);
    }

    static void awaitBgsave(final EmbeddedRedisServer server, final ControlConnection redis, final long deadlineNanos,
                            final Duration limit) throws IOException {
        long pause = POLL_START_MS;
        while (true) {
            Map<String, String> state = redis.sync(RedisCommands.INFO_PERSISTENCE);
            if ("0".equals(state.get("rdb_bgsave_in_progress"))) {
                if (!"ok".equals(state.get("rdb_last_bgsave_status"))) {
                    throw new IOException("BGSAVE failed (rdb_last_bgsave_status="
                            + state.get("rdb_last_bgsave_status") + "); see the redis-server lines in the log");
                }
                return;
            }
            if (!server.isAlive()) {
                throw new IOException("the embedded redis-server (pid " + server.pid() + ") exited during the snapshot");
            }
            if (System.nanoTime() - deadlineNanos > 0) {
                throw new IOException("BGSAVE did not finish within " + limit.toSeconds() + " s (sized to the"
                        + " dataset); the snapshot is abandoned and the next one retries. A disk this slow also"
                        + " delays restores: check " + PersistenceSettings.DATA_DIR + " and the work directory's disk");
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while waiting for BGSAVE");
            }
            pause = Math.min(POLL_MAX_MS, pause * 2);
        }
    }
}
