package io.compozy.cache.migration;

import com.moilioncircle.redis.replicator.rdb.datatype.ExpiredType;
import com.moilioncircle.redis.replicator.rdb.datatype.KeyValuePair;
import io.compozy.cache.config.CacheSettings;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.ByteArrayCodec;
import org.redisson.client.protocol.RedisCommands;
import org.redisson.command.CommandAsyncExecutor;
import org.redisson.command.CommandBatchService;

/**
 * Writes keys captured as DUMP payloads into a Redis through a RedissonClient: {@code RESTORE key expiry
 * payload ABSTTL}, so an expiry stays the absolute time it was at the source however long the copy takes. Each
 * key goes to the node that owns its slot (Redisson routes it), so the target may be a single Redis, a
 * Sentinel-managed one or a Cluster. Keys whose expiry has passed are skipped and counted; an
 * {@link ImportMarker} is never copied. Up to
 * {@value #IN_FLIGHT} RESTOREs are in flight at once, sent in pipelined batches of {@value #BATCH}; the first
 * failure stops the copy and names the key.
 */
final class KeyRestorer {

    static final int IN_FLIGHT = 4096;
    /** Keys per pipelined batch: one write and one flush per node instead of one per key. */
    static final int BATCH = 256;
    private static final long WAIT_SECONDS = 120;

    private final CommandAsyncExecutor executor;
    private final Semaphore window = new Semaphore(IN_FLIGHT);
    private final AtomicLong restored = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong expired = new AtomicLong();
    private final AtomicReference<ImportFailure> failure = new AtomicReference<>();
    /** The batch being filled; only the importing thread touches it. */
    private CommandBatchService batch;
    /** The keys of that batch with their replies, to name the one Redis refused when the batch fails. */
    private List<Map.Entry<byte[], CompletableFuture<?>>> batchKeys = new ArrayList<>();
    private int batched;
    private String sourceFormat = "?";

    KeyRestorer(final RedissonClient target) {
        this.executor = ((Redisson) target).getCommandExecutor();
    }

    /**
     * Sends one key (a DUMP payload with its expiry) and returns without waiting for the reply.
     *
     * @throws ImportFailure when an earlier key failed, or the target stopped answering
     */
    void restore(final KeyValuePair<byte[], byte[]> pair, final String sourceFormat) {
        throwIfFailed();
        if (ImportMarker.isMarker(pair.getKey())) {
            return; // a marker describes the Redis it is in, not data to move
        }
        this.sourceFormat = sourceFormat;
        Long expiresAt = expiresAtMillis(pair);
        if (expiresAt != null && expiresAt <= System.currentTimeMillis()) {
            expired.incrementAndGet();
            return;
        }
        acquire();
        byte[] key = pair.getKey();
        byte[] payload = pair.getValue();
        List<Object> params = new ArrayList<>(List.of(key, expiresAt == null ? 0L : expiresAt, payload));
        if (expiresAt != null) {
            params.add("ABSTTL");
        }
        if (batch == null) {
            batch = new CommandBatchService(executor);
        }
        var reply = batch.writeAsync(key, ByteArrayCodec.INSTANCE, RedisCommands.RESTORE, params.toArray());
        batchKeys.add(Map.entry(key, reply.toCompletableFuture()));
        reply.whenComplete((ok, error) -> {
                    if (error == null) {
                        restored.incrementAndGet();
                        bytes.addAndGet(payload.length);
                    } else {
                        failure.compareAndSet(null, new ImportFailure("key '" + name(key) + "' could not be"
                                + " written: " + redisWords(error) + hint(error, sourceFormat), error));
                    }
                    window.release(); // last: once finish() has every permit, the counts are complete
                });
        if (++batched == BATCH) {
            send();
        }
    }

    /**
     * Sends the keys batched so far, pipelined (one batch per node that owns some of them). Each key's own reply
     * completes its future above; but when Redis refuses one command of a batch, Redisson fails the batch and may
     * leave that command's future open, so the batch's failure is recorded too, and {@link #finish()} stops on it
     * instead of waiting out its deadline for a reply that will not come.
     */
    private void send() {
        if (batch != null) {
            String format = sourceFormat;
            var keys = batchKeys;
            batch.executeAsync().whenComplete((ok, error) -> {
                if (error != null) {
                    // The refused key is the one whose reply did not succeed.
                    String which = keys.stream().filter(k -> !k.getValue().isDone()
                                    || k.getValue().isCompletedExceptionally()).findFirst()
                            .map(k -> "key '" + name(k.getKey()) + "'").orElse("a pipelined batch of keys");
                    failure.compareAndSet(null, new ImportFailure(which + " could not be written: "
                            + redisWords(error) + hint(error, format), error));
                }
            });
            batch = null;
            batchKeys = new ArrayList<>();
            batched = 0;
        }
    }

    /** Waits for every reply. @throws ImportFailure with the first key that failed */
    void finish() {
        send();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        try {
            while (!window.tryAcquire(IN_FLIGHT, 100, TimeUnit.MILLISECONDS)) {
                throwIfFailed(); // a refused key: its reply may never come, the reason is known now
                if (System.nanoTime() - deadline > 0) {
                    throw new ImportFailure("the target did not answer " + (IN_FLIGHT - window.availablePermits())
                            + " RESTORE(s) within " + WAIT_SECONDS + " s", null);
                }
            }
            window.release(IN_FLIGHT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImportFailure("interrupted while waiting for the target", e);
        }
        throwIfFailed();
    }

    long restored() {
        return restored.get();
    }

    long bytes() {
        return bytes.get();
    }

    long expired() {
        return expired.get();
    }

    private void acquire() {
        try {
            if (!window.tryAcquire(WAIT_SECONDS, TimeUnit.SECONDS)) {
                throw new ImportFailure("the target did not answer within " + WAIT_SECONDS + " s", null);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImportFailure("interrupted while copying", e);
        }
    }

    private void throwIfFailed() {
        ImportFailure failed = failure.get();
        if (failed != null) {
            throw failed;
        }
    }

    /** The key's absolute expiry in Unix milliseconds, or null when it has none. */
    static Long expiresAtMillis(final KeyValuePair<?, ?> pair) {
        Long value = pair.getExpiredValue();
        if (value == null || pair.getExpiredType() == null || pair.getExpiredType() == ExpiredType.NONE) {
            return null;
        }
        return pair.getExpiredType() == ExpiredType.SECOND ? value * 1000 : value;
    }

    /** A key as text for a message: UTF-8, control characters escaped, long names cut. */
    static String name(final byte[] key) {
        String text = new String(key, StandardCharsets.UTF_8).replaceAll("\\p{Cntrl}", "?");
        return text.length() > 200 ? text.substring(0, 200) + "..." : text;
    }

    private static String redisWords(final Throwable error) {
        String message = String.valueOf(error.getMessage());
        int context = message.indexOf(". channel: ");
        return context < 0 ? message : message.substring(0, context);
    }

    private static String hint(final Throwable error, final String sourceFormat) {
        String message = String.valueOf(error.getMessage());
        if (message.contains("payload version") || message.contains("Bad data format")) {
            return " (the data was written as " + sourceFormat + " and could not be converted to a format the target"
                    + " reads: use a target of that Redis version or newer; for the embedded server, "
                    + CacheSettings.BINARY + " names a newer redis-server)";
        }
        if (message.contains("BUSYKEY")) {
            return " (the key exists in the target: something wrote to it during the import)";
        }
        return "";
    }
}
