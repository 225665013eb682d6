package io.compozy.cache.api;

/**
 * The embedded server's append-only file (standalone mode with {@code redis.standalone.persistence.aof}
 * not {@code off}), for status pages and monitoring. The numbers are Redis's own ({@code INFO persistence});
 * when Redis does not answer they read {@code -1} and the statuses {@code unknown}. Holds no secret.
 *
 * @param fsync the configured policy: {@code everysec} or {@code always}
 * @param directory the AOF directory (manifest, base and incr files) in {@code data_dir}
 * @param loadedFrom where the running server's data came from and why, as logged at its start
 * @param truncatedBytesOnLoad bytes of a partial command Redis dropped from the AOF's tail at that start
 * @param enabled whether Redis is logging writes to the AOF ({@code aof_enabled})
 * @param sizeBytes the AOF's size ({@code aof_current_size}); rewrites keep it bounded
 * @param rewriteInProgress whether a rewrite runs now ({@code aof_rewrite_in_progress})
 * @param rewrites rewrites since the server started ({@code aof_rewrites})
 * @param lastRewriteSeconds how long the last rewrite took ({@code aof_last_rewrite_time_sec}; -1 none yet)
 * @param lastRewriteStatus {@code ok} or {@code err} ({@code aof_last_bgrewrite_status})
 * @param lastWriteStatus {@code ok} or {@code err} ({@code aof_last_write_status}): {@code err} while Redis
 *     cannot append (a full disk), when it refuses writes
 * @param delayedFsyncs times a write waited for a slow fsync ({@code aof_delayed_fsync})
 */
public record AppendOnlyStatus(
        String fsync,
        String directory,
        String loadedFrom,
        long truncatedBytesOnLoad,
        boolean enabled,
        long sizeBytes,
        boolean rewriteInProgress,
        long rewrites,
        long lastRewriteSeconds,
        String lastRewriteStatus,
        String lastWriteStatus,
        long delayedFsyncs) {

    /** Whether Redis can append: when not, it refuses writes until it can again. */
    public boolean writing() {
        return "ok".equals(lastWriteStatus);
    }
}
