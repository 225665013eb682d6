package io.compozy.cache.web.observe;

import io.compozy.cache.api.AppendOnlyStatus;
import io.compozy.cache.api.BackendInfo;
import io.compozy.cache.api.CacheConnection;
import io.compozy.cache.api.Persistence;
import io.compozy.cache.api.PersistenceStatus;
import io.compozy.cache.api.SnapshotInfo;
import io.compozy.cache.api.TopologyInfo;
import io.compozy.cache.web.client.CacheConnections;
import io.compozy.cache.web.store.DeliveryQueue;
import io.compozy.cache.web.store.StoreExecutors;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.metrics.Counter;
import org.eclipse.microprofile.metrics.Metadata;
import org.eclipse.microprofile.metrics.MetricRegistry;
import org.eclipse.microprofile.metrics.Tag;
import org.eclipse.microprofile.metrics.Timer;
import org.redisson.api.redisnode.RedisNode;
import org.redisson.api.redisnode.RedisNodes;

/**
 * The adapter's numbers as metrics: snapshots, restores, notification drops and the server's memory.
 * They live in the resource adapter (and in the stores' queues), so a task reads them every
 * {@value #REFRESH_KEY} through the API and moves the counters by what changed; gauges show the last
 * reading. Nothing here runs on a store's hot path, and a scrape never waits for Redis.
 */
@ApplicationScoped
public class BackendMetrics {

    /** Config key: how often the adapter's numbers are read (ISO-8601); default {@value #DEFAULT_REFRESH}. */
    public static final String REFRESH_KEY = "compozy.metrics.refresh_interval";
    static final long MIN_REFRESH_MILLIS = 100;
    public static final String DEFAULT_REFRESH = "PT5S";

    static final String EVENT_STREAMS = "compozy_api_event_streams";
    static final String SNAPSHOT_DURATION = "compozy_standalone_snapshot_duration"; // + _seconds
    static final String SNAPSHOT_SIZE = "compozy_standalone_snapshot_size_bytes";
    static final String SNAPSHOTS_TAKEN = "compozy_standalone_snapshots_taken_total";
    static final String SNAPSHOTS_FAILED = "compozy_standalone_snapshots_failed_total";
    static final String SNAPSHOTS_SKIPPED = "compozy_standalone_snapshots_skipped_total";
    static final String RESTORES = "compozy_standalone_restores_total";
    static final String RESTORE_FALLBACKS = "compozy_standalone_restore_fallbacks_total";
    static final String LAST_SNAPSHOT_AGE = "compozy_standalone_last_snapshot_age_seconds";
    static final String EMBEDDED_RESTARTS = "compozy_standalone_embedded_restarts_total";
    static final String AOF_ENABLED = "compozy_standalone_aof_enabled";
    static final String AOF_SIZE = "compozy_standalone_aof_size_bytes";
    static final String AOF_LAST_WRITE_OK = "compozy_standalone_aof_last_write_ok";
    static final String AOF_LAST_REWRITE_OK = "compozy_standalone_aof_last_rewrite_ok";
    static final String AOF_REWRITE_IN_PROGRESS = "compozy_standalone_aof_rewrite_in_progress";
    static final String AOF_LAST_REWRITE_DURATION = "compozy_standalone_aof_last_rewrite_duration_seconds";
    static final String AOF_REWRITES = "compozy_standalone_aof_rewrites_total";
    static final String AOF_DELAYED_FSYNCS = "compozy_standalone_aof_delayed_fsync_total";
    static final String NOTIFICATION_DROPS = "compozy_cache_notification_drops_total";
    static final String MEMORY_USED = "compozy_cache_memory_used_bytes";
    static final String MEMORY_LIMIT = "compozy_cache_memory_limit_bytes";
    static final String FAILOVERS = "compozy_cache_failovers_total";

    private static final Logger LOG = Logger.getLogger(BackendMetrics.class.getName());

    private final MetricRegistry registry;
    private final CacheConnections connections;
    private final StoreExecutors executors;
    private final boolean enabled;
    private final Duration refresh;

    private ScheduledFuture<?> task;
    private boolean registered;
    private Counter drops;
    private long dropsSeen;
    private Counter restarts;
    private long restartsSeen;
    private Counter failovers;
    private long failoversSeen;
    private PersistenceMeters persistence;
    private AppendOnlyMeters appendOnly;
    private volatile double usedMemory = Double.NaN;
    private volatile double memoryLimit = Double.NaN;

    /** For CDI's proxy only. */
    protected BackendMetrics() {
        this(null, null, null, false, Duration.ofMillis(MIN_REFRESH_MILLIS));
    }

    @Inject
    public BackendMetrics(final MetricRegistry registry, final CacheConnections connections,
            final StoreExecutors executors,
            @ConfigProperty(name = CacheMetrics.ENABLED_KEY, defaultValue = CacheMetrics.DEFAULT_ENABLED) final boolean enabled,
            @ConfigProperty(name = REFRESH_KEY, defaultValue = DEFAULT_REFRESH) final Duration refresh) {
        if (refresh == null || refresh.toMillis() < MIN_REFRESH_MILLIS) {
            throw new IllegalArgumentException(REFRESH_KEY + " must be at least 100 ms (PT0.1S), got " + refresh
                    + "; a shorter interval would spend the server's CPU reading numbers nobody scrapes that often");
        }
        this.registry = registry;
        this.connections = connections;
        this.executors = executors;
        this.enabled = enabled;
        this.refresh = refresh;
    }

    /** Starts reading when the application starts (and the adapter's metrics exist before any request). */
    void start(@Observes @Initialized(ApplicationScoped.class) final Object applicationStarted) {
        if (!enabled) {
            LOG.info("Metrics are off (" + CacheMetrics.ENABLED_KEY + "=false)");
            return;
        }
        registry.gauge(Metadata.builder().withName(EVENT_STREAMS).withDescription("Server-Sent Events streams the"
                + " REST API holds open (at most api.sse.max_streams)").build(),
                io.compozy.cache.web.rest.StreamLimits::openStreams);
        task = executors.scheduler().scheduleWithFixedDelay(this::refreshQuietly, 0, refresh.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    @PreDestroy
    void stop() {
        if (task != null) {
            task.cancel(false);
        }
    }

    private void refreshQuietly() {
        try {
            refresh();
        } catch (RuntimeException e) {
            // The adapter is not started or Redis does not answer: readiness says so; the gauges keep their value.
            LOG.log(Level.FINE, "reading the cache's numbers failed", e);
        }
    }

    /** One reading; only the scheduler's one thread calls it. */
    synchronized void refresh() {
        connections.call(connection -> {
            BackendInfo info = connection.backend();
            if (!registered) {
                register(info, connection.persistence());
                registered = true;
            }
            TopologyInfo topology = connection.topology();
            advance(failovers, topology.failovers() - failoversSeen);
            failoversSeen = topology.failovers();
            Map<String, String> memory = masterMemory(connection, topology.kind());
            if (restarts != null) {
                advance(restarts, info.embeddedRestarts() - restartsSeen);
                restartsSeen = info.embeddedRestarts();
            }
            usedMemory = number(memory.get("used_memory"));
            memoryLimit = number(memory.get("maxmemory"));
            if (persistence != null) {
                connection.persistence().ifPresent(persistence::update);
            }
            if (appendOnly != null) {
                connection.persistence().flatMap(Persistence::appendOnly).ifPresent(appendOnly::update);
            }
            return null;
        });
        long dropped = DeliveryQueue.droppedEverywhere();
        advance(drops, dropped - dropsSeen);
        dropsSeen = dropped;
    }

    private void register(final BackendInfo info, final Optional<Persistence> found) {
        Tag backend = new Tag("backend", info.kind());
        drops = registry.counter(Metadata.builder().withName(NOTIFICATION_DROPS)
                .withDescription("Notifications dropped because a subscriber's queue was full").build());
        failovers = registry.counter(Metadata.builder().withName(FAILOVERS)
                .withDescription("Times a Sentinel or Cluster failover replaced a master (logged with both)").build());
        registry.gauge(Metadata.builder().withName(MEMORY_USED)
                .withDescription("Memory the Redis server uses (INFO used_memory)").build(), () -> usedMemory, backend);
        registry.gauge(Metadata.builder().withName(MEMORY_LIMIT)
                .withDescription("The Redis server's maxmemory (0 = no limit)").build(), () -> memoryLimit, backend);
        if (info.embedded()) {
            restarts = registry.counter(Metadata.builder().withName(EMBEDDED_RESTARTS)
                    .withDescription("Restarts of the embedded redis-server after it died").build());
        }
        found.ifPresent(p -> persistence = new PersistenceMeters(p));
        found.flatMap(Persistence::appendOnly).ifPresent(aof -> appendOnly = new AppendOnlyMeters(aof));
    }

    /** INFO memory of the one node, the Sentinel master, or (Cluster) the sums over the masters. */
    private static Map<String, String> masterMemory(final CacheConnection connection, final String kind) {
        if ("cluster".equals(kind)) {
            double used = 0;
            double limit = 0;
            for (var master : connection.getRedisNodes(RedisNodes.CLUSTER).getMasters()) {
                Map<String, String> info = master.info(RedisNode.InfoSection.MEMORY);
                used += number(info.get("used_memory"));
                limit += number(info.get("maxmemory"));
            }
            return Map.of("used_memory", Double.toString(used), "maxmemory", Double.toString(limit));
        }
        if ("sentinel".equals(kind)) {
            return connection.getRedisNodes(RedisNodes.SENTINEL_MASTER_SLAVE).getMaster()
                    .info(RedisNode.InfoSection.MEMORY);
        }
        return connection.getRedisNodes(RedisNodes.SINGLE).getInstance().info(RedisNode.InfoSection.MEMORY);
    }

    /** Counters only go up; the adapter's numbers only grow while it runs. */
    private static void advance(final Counter counter, final long delta) {
        if (delta > 0) {
            counter.inc(delta);
        }
    }

    private static double number(final String value) {
        try {
            return value == null ? Double.NaN : Double.parseDouble(value);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    /** The standalone persistence metrics, moved by what changed since the last reading. */
    private final class PersistenceMeters {
        private final Timer duration;
        private final Counter taken;
        private final Counter failed;
        private final Counter skipped;
        private final Counter restores;
        private final Counter fallbacks;
        private volatile double size = Double.NaN;
        private volatile Instant lastGood;
        private long takenSeen;
        private long failedSeen;
        private long skippedSeen;
        private long restoresSeen;
        private long fallbacksSeen;

        PersistenceMeters(final Persistence persistence) {
            duration = registry.timer(Metadata.builder().withName(SNAPSHOT_DURATION)
                    .withDescription("Snapshot duration, from BGSAVE to the synced commit").build());
            taken = counter(SNAPSHOTS_TAKEN, "Snapshots committed");
            failed = counter(SNAPSHOTS_FAILED, "Snapshot attempts that failed");
            skipped = counter(SNAPSHOTS_SKIPPED, "Snapshot requests skipped because one was running");
            restores = counter(RESTORES, "Snapshot generations restored at start");
            fallbacks = counter(RESTORE_FALLBACKS, "Generations skipped at start (corrupt or refused) for an older one");
            registry.gauge(Metadata.builder().withName(SNAPSHOT_SIZE)
                    .withDescription("Size of the newest good snapshot (the RDB, before encryption)").build(),
                    () -> size);
            registry.gauge(Metadata.builder().withName(LAST_SNAPSHOT_AGE)
                    .withDescription("Age of the newest good snapshot (taken, or restored at start)").build(),
                    () -> {
                        Instant at = lastGood;
                        return at == null ? Double.NaN : Duration.between(at, Instant.now()).toMillis() / 1000.0;
                    });
            update(persistence);
        }

        private Counter counter(final String name, final String description) {
            return registry.counter(Metadata.builder().withName(name).withDescription(description).build());
        }

        void update(final Persistence persistence) {
            PersistenceStatus status = persistence.status();
            Optional<SnapshotInfo> good = status.lastSnapshot().or(status::restoredGeneration);
            good.ifPresent(info -> {
                size = info.bytes();
                lastGood = info.takenAt();
            });
            long newlyTaken = status.snapshotsTaken() - takenSeen;
            if (newlyTaken > 0) {
                recordDurations(persistence, status, newlyTaken);
            }
            advance(taken, newlyTaken);
            takenSeen = status.snapshotsTaken();
            advance(failed, status.snapshotsFailed() - failedSeen);
            failedSeen = status.snapshotsFailed();
            advance(skipped, status.snapshotsSkipped() - skippedSeen);
            skippedSeen = status.snapshotsSkipped();
            long restored = status.restoredGeneration().isPresent() ? 1 : 0;
            advance(restores, restored - restoresSeen);
            restoresSeen = restored;
            advance(fallbacks, status.generationsSkippedOnRestore() - fallbacksSeen);
            fallbacksSeen = status.generationsSkippedOnRestore();
        }

        /**
         * The durations of the snapshots taken since the last reading: the newest {@code count} generations
         * up to the last one taken (the store keeps {@code retain} of them; more in one interval are rare).
         */
        private void recordDurations(final Persistence persistence, final PersistenceStatus status, final long count) {
            long newest = status.lastSnapshot().map(SnapshotInfo::generation).orElse(Long.MAX_VALUE);
            List<SnapshotInfo> recent = persistence.generations().stream()
                    .filter(info -> info.generation() <= newest).limit(count).toList();
            recent.forEach(info -> duration.update(Duration.ofMillis(info.durationMillis())));
        }
    }

    /** The append-only file: Redis's INFO persistence numbers, as gauges and counters. */
    private final class AppendOnlyMeters {
        private final Counter rewrites;
        private final Counter delayedFsyncs;
        private volatile AppendOnlyStatus last;
        private long rewritesSeen;
        private long delayedSeen;

        AppendOnlyMeters(final AppendOnlyStatus first) {
            last = first;
            gauge(AOF_ENABLED, "1 while Redis logs every write to the append-only file", () -> flag(last.enabled()));
            gauge(AOF_SIZE, "Size of the append-only file (aof_current_size)", () -> known(last.sizeBytes()));
            gauge(AOF_LAST_WRITE_OK, "0 while Redis cannot append (a full disk): it refuses writes meanwhile",
                    () -> flag(last.writing()));
            gauge(AOF_LAST_REWRITE_OK, "0 when the last rewrite of the append-only file failed",
                    () -> flag("ok".equals(last.lastRewriteStatus())));
            gauge(AOF_REWRITE_IN_PROGRESS, "1 while the append-only file is being rewritten",
                    () -> flag(last.rewriteInProgress()));
            gauge(AOF_LAST_REWRITE_DURATION, "How long the last rewrite of the append-only file took",
                    () -> known(last.lastRewriteSeconds()));
            rewrites = registry.counter(Metadata.builder().withName(AOF_REWRITES)
                    .withDescription("Rewrites of the append-only file").build());
            delayedFsyncs = registry.counter(Metadata.builder().withName(AOF_DELAYED_FSYNCS)
                    .withDescription("Writes that waited for a slow fsync of the append-only file").build());
            update(first);
        }

        private void gauge(final String name, final String description, final java.util.function.Supplier<Double> value) {
            registry.gauge(Metadata.builder().withName(name).withDescription(description).build(), value::get);
        }

        /** Redis counts from zero again after a restart of the embedded server: count only the growth. */
        void update(final AppendOnlyStatus status) {
            last = status;
            if (status.rewrites() >= 0) {
                advance(rewrites, status.rewrites() - (status.rewrites() < rewritesSeen ? 0 : rewritesSeen));
                rewritesSeen = status.rewrites();
            }
            if (status.delayedFsyncs() >= 0) {
                advance(delayedFsyncs, status.delayedFsyncs() - (status.delayedFsyncs() < delayedSeen ? 0 : delayedSeen));
                delayedSeen = status.delayedFsyncs();
            }
        }

        private static double flag(final boolean on) {
            return on ? 1 : 0;
        }

        private static double known(final long value) {
            return value < 0 ? Double.NaN : value;
        }
    }
}
