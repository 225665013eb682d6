package io.compozy.cache.persistence;

import io.compozy.cache.api.AppendOnlyStatus;
import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.redisson.client.protocol.RedisCommands;

/**
 * Redis's own multi-part append-only file (a manifest, an RDB base and incr files of commands) in
 * {@code data_dir/redis/appendonlydir}. Redis writes it; this class only looks at it from outside: whether
 * one exists, how big it is, moving a damaged or unwanted one aside (never deleting it), and switching it
 * on in a server that was started from a snapshot generation, which rewrites it from the data.
 */
final class AppendOnlyFile {

    /** Redis's default {@code appendfilename}: the manifest is this plus {@code .manifest}. */
    static final String MANIFEST = "appendonly.aof.manifest";
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss", Locale.ROOT);
    private static final long POLL_MS = 20;

    private final Path directory;

    AppendOnlyFile(final Path dataDir) {
        this.directory = dataDir.resolve(PersistenceSettings.AOF_HOME).resolve(EmbeddedRedisServer.AOF_DIR);
    }

    Path directory() {
        return directory;
    }

    /** Whether an AOF is there to load: Redis reads the manifest first, and without it there is none. */
    boolean exists() {
        return Files.isRegularFile(directory.resolve(MANIFEST));
    }

    /** The bytes of every file in the directory (0 when there is none). */
    long bytes() throws IOException {
        return EmbeddedRedisServer.bytesIn(directory);
    }

    /** Renames the directory to {@code appendonlydir.<why>-<time>} next to it and returns the new name. */
    Path setAside(final String why) throws IOException {
        Path aside = directory.resolveSibling(directory.getFileName() + "." + why + "-" + LocalDateTime.now().format(STAMP));
        return Files.move(directory, aside);
    }

    /**
     * Whether redis-server exited naming the AOF's damage. Only Redis's own damage messages count: every AOF
     * load prints "Reading RDB base file on AOF loading...", and a server still loading when the start wait
     * ran out, or killed for memory, has a sound file that must not be set aside for an older generation.
     */
    static boolean refusedTheFile(final IOException startFailure) {
        if (startFailure instanceof EmbeddedRedisServer.StartTimeoutException) {
            return false;
        }
        String message = String.valueOf(startFailure.getMessage()).toLowerCase(Locale.ROOT);
        return DAMAGE_MESSAGES.stream().anyMatch(message::contains);
    }

    /** Redis 7.0's aof.c, lower-cased: a command, the tail, the RDB base or the manifest cannot be read. */
    private static final List<String> DAMAGE_MESSAGES = List.of("reading the append only file",
            "aof loading aborted", "aof manifest", "reading the manifest file", "rdb preamble of aof file");

    /** Whether BGSAVE was refused because another fork (an AOF rewrite) runs. */
    static boolean refusedForRewrite(final IOException bgsaveFailure) {
        String message = String.valueOf(bgsaveFailure.getMessage());
        return message.contains("child process is active") || message.contains("rewriting in progress");
    }

    /**
     * Waits until no AOF rewrite runs or is scheduled: BGSAVE and a rewrite both fork, and Redis refuses to
     * start one while the other runs.
     *
     * @throws IOException when the rewrite is still running after {@code timeout}
     */
    static void awaitNoRewrite(final ControlConnection redis, final Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Map<String, String> info = redis.sync(RedisCommands.INFO_PERSISTENCE);
            if ("0".equals(info.get("aof_rewrite_in_progress"))) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("an append-only file rewrite has been running for more than "
                        + timeout.toSeconds() + " s");
            }
            pause();
        }
    }

    /**
     * Switches the AOF on in a server started from an RDB (Redis ignores an RDB when it starts with
     * appendonly yes) and waits until Redis has rewritten it from the data: from then on the AOF holds
     * everything. Does nothing when the AOF is already on.
     *
     * @throws IOException when the rewrite fails or does not finish within {@code timeout}
     */
    static void switchOn(final EmbeddedRedisServer server, final Duration timeout) throws IOException {
        try (ControlConnection redis = ControlConnection.open(server.host(), server.port(), server.password())) {
            if (!"1".equals(redis.sync(RedisCommands.INFO_PERSISTENCE).get("aof_enabled"))) {
                redis.sync(RedisCommands.CONFIG_SET, "appendonly", "yes");
            }
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                Map<String, String> info = redis.sync(RedisCommands.INFO_PERSISTENCE);
                boolean done = "1".equals(info.get("aof_enabled")) && "0".equals(info.get("aof_rewrite_in_progress"))
                        && "0".equals(info.get("aof_rewrite_scheduled"));
                if (!"ok".equals(info.get("aof_last_bgrewrite_status"))) {
                    throw new IOException("Redis could not write the append-only file (aof_last_bgrewrite_status="
                            + info.get("aof_last_bgrewrite_status") + "); see the redis-server lines in the log");
                }
                if (done) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new IOException("the append-only file was not written within " + timeout.toSeconds() + " s");
                }
                pause();
            }
        }
    }

    /** The status from Redis's {@code INFO persistence} ({@code info} empty when Redis did not answer). */
    static AppendOnlyStatus status(final PersistenceSettings settings, final Path directory, final String loadedFrom,
                                   final long truncatedBytes, final Map<String, String> info) {
        return new AppendOnlyStatus(settings.aof().value(), directory.toString(), loadedFrom, truncatedBytes,
                "1".equals(info.get("aof_enabled")), number(info, "aof_current_size"),
                "1".equals(info.get("aof_rewrite_in_progress")), number(info, "aof_rewrites"),
                number(info, "aof_last_rewrite_time_sec"), info.getOrDefault("aof_last_bgrewrite_status", "unknown"),
                info.getOrDefault("aof_last_write_status", "unknown"), number(info, "aof_delayed_fsync"));
    }

    private static long number(final Map<String, String> info, final String field) {
        try {
            return Long.parseLong(info.getOrDefault(field, "-1"));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static void pause() {
        try {
            Thread.sleep(POLL_MS);
        } catch (InterruptedException e) {
            // Only the snapshot thread runs here, and nothing interrupts it.
            Thread.currentThread().interrupt();
        }
    }
}
