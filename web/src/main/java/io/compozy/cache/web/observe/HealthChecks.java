package io.compozy.cache.web.observe;

import io.compozy.cache.api.AppendOnlyStatus;
import io.compozy.cache.api.BackendInfo;
import io.compozy.cache.api.TopologyInfo;
import io.compozy.cache.api.CacheConnection;
import io.compozy.cache.api.Persistence;
import io.compozy.cache.api.PersistenceStatus;
import io.compozy.cache.web.client.CacheConnections;
import io.compozy.cache.web.client.CacheUnavailableException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;

/**
 * The cache's MicroProfile Health checks, at {@code /health/ready} and {@code /health/live}. Their data
 * comes from {@link BackendInfo}, {@link PersistenceStatus} and the adapter's start failure, none of
 * which holds a secret.
 */
@ApplicationScoped
public class HealthChecks {

    /**
     * Config key: how long snapshots may keep failing before readiness turns DOWN (ISO-8601); default
     * {@value #DEFAULT_SNAPSHOT_FAILURE_THRESHOLD}.
     */
    public static final String SNAPSHOT_FAILURE_THRESHOLD_KEY = "compozy.health.snapshot_failure_threshold";
    public static final String DEFAULT_SNAPSHOT_FAILURE_THRESHOLD = "PT15M";

    static final String CACHE = "compozy-cache";
    static final String PERSISTENCE = "compozy-cache-persistence";
    static final String EMBEDDED_SERVER = "compozy-cache-embedded-server";

    @Inject
    CacheConnections connections;

    @Inject
    @ConfigProperty(name = SNAPSHOT_FAILURE_THRESHOLD_KEY, defaultValue = DEFAULT_SNAPSHOT_FAILURE_THRESHOLD)
    Duration snapshotFailureThreshold;

    /** DOWN until the adapter has started (restore included) and while PING fails; the mode in the data. */
    @Produces
    @Readiness
    HealthCheck cacheReady() {
        return () -> {
            HealthCheckResponseBuilder response = HealthCheckResponse.named(CACHE);
            try {
                return connections.call(connection -> {
                    BackendInfo info = describe(response, connection);
                    boolean ping = connection.ping();
                    response.withData("ping", ping ? "ok" : "failed")
                            .status(ping)
                            .withData("redis_version", info.redisVersion());
                    if (info.embedded()) {
                        response.withData("redis_binary", info.redisBinary());
                    }
                    return response.build();
                });
            } catch (CacheUnavailableException e) {
                return response.down().withData("reason", e.getMessage()).build();
            }
        };
    }

    /**
     * Snapshots of standalone persistence: UP with their state as data ({@code ok}, {@code degraded} while
     * they fail, {@code failing} once they have failed for longer than the threshold, which turns it DOWN).
     */
    @Produces
    @Readiness
    HealthCheck persistenceReady() {
        return () -> {
            HealthCheckResponseBuilder response = HealthCheckResponse.named(PERSISTENCE);
            Optional<Persistence> persistence;
            try {
                persistence = connections.call(CacheConnection::persistence);
            } catch (CacheUnavailableException e) {
                return response.down().withData("reason", "the cache has not started").build();
            }
            if (persistence.isEmpty()) {
                return response.up().withData("persistence", "off").build();
            }
            Optional<AppendOnlyStatus> aof = persistence.get().appendOnly();
            aof.ifPresentOrElse(file -> appendOnlyState(response, file), () -> response.withData("aof", "off"));
            return persistenceState(response, persistence.get().status(), Instant.now(), snapshotFailureThreshold,
                    aof.map(HealthChecks::appendOnlyOk).orElse(true));
        };
    }

    /**
     * How long the embedded redis-server may stay dead before liveness turns DOWN: the adapter restarts it
     * (up to 5 attempts over about 30 s), so only a server still dead after that cannot be brought back.
     */
    static final Duration RESTART_GRACE = Duration.ofSeconds(60);

    /** The dead process first seen by the liveness check, and when. */
    private record Dead(long pid, Instant since) {
    }

    private volatile Dead dead;

    /** DOWN when the embedded redis-server process is gone and the adapter did not bring it back. */
    @Produces
    @Liveness
    HealthCheck embeddedServerAlive() {
        return () -> {
            HealthCheckResponseBuilder response = HealthCheckResponse.named(EMBEDDED_SERVER);
            BackendInfo info;
            try {
                info = connections.call(CacheConnection::backend);
            } catch (CacheUnavailableException e) {
                // Not started is a readiness matter: restarting the JVM would not fix a configuration.
                return response.up().withData("started", false).build();
            }
            if (!info.embedded()) {
                return response.up().withData("backend", info.kind()).build();
            }
            boolean alive = ProcessHandle.of(info.processId()).map(ProcessHandle::isAlive).orElse(false);
            response.withData("backend", info.kind()).withData("pid", info.processId())
                    .withData("restarts", info.embeddedRestarts());
            if (alive) {
                dead = null;
                return response.up().build();
            }
            Dead seen = dead;
            if (seen == null || seen.pid() != info.processId()) {
                seen = new Dead(info.processId(), Instant.now());
                dead = seen;
            }
            Duration down = Duration.between(seen.since(), Instant.now());
            if (down.compareTo(RESTART_GRACE) < 0) {
                return response.up().withData("state", "restarting").build();
            }
            return response.down().withData("reason", "the embedded redis-server (pid " + info.processId()
                    + ") exited " + down.toSeconds() + " s ago and the adapter could not start it again (see"
                    + " messages.log); restart the server").build();
        };
    }

    private static BackendInfo describe(final HealthCheckResponseBuilder response, final CacheConnection connection) {
        BackendInfo info = connection.backend();
        response.withData("mode", info.mode()).withData("backend", info.kind());
        TopologyInfo topology = connection.topology();
        // One line per deployment: "127.0.0.1:7000 master up, 127.0.0.1:7003 replica down, ..."
        response.withData("topology", topology.kind()).withData("nodes", topology.nodes().stream()
                .map(n -> n.address() + " " + n.role() + (n.reachable() ? " up" : " down"))
                .collect(java.util.stream.Collectors.joining(", ")));
        return info;
    }

    /**
     * The append-only file's part of the persistence check: {@code aof_state} is {@code degraded} while Redis
     * cannot append (a full disk; it refuses writes meanwhile), which stays UP: reads work, and writes come
     * back by themselves once there is room, so taking the server out of rotation would only add failures.
     */
    static void appendOnlyState(final HealthCheckResponseBuilder response, final AppendOnlyStatus aof) {
        response.withData("aof", aof.fsync())
                .withData("aof_state", appendOnlyOk(aof) ? "ok" : "degraded")
                .withData("aof_last_write_status", aof.lastWriteStatus())
                .withData("aof_last_rewrite_status", aof.lastRewriteStatus())
                .withData("aof_size_bytes", aof.sizeBytes());
    }

    private static boolean appendOnlyOk(final AppendOnlyStatus aof) {
        return aof.writing() && !"err".equals(aof.lastRewriteStatus());
    }

    /** The persistence check's answer for {@code status} at {@code now}. */
    static HealthCheckResponse persistenceState(final HealthCheckResponseBuilder response,
            final PersistenceStatus status, final Instant now, final Duration threshold) {
        return persistenceState(response, status, now, threshold, true);
    }

    /** As above; an append-only file that cannot be written makes an ok state {@code degraded}. */
    static HealthCheckResponse persistenceState(final HealthCheckResponseBuilder response,
            final PersistenceStatus status, final Instant now, final Duration threshold, final boolean aofOk) {
        SnapshotHealth health = SnapshotHealth.of(status, now, threshold);
        response.withData("persistence", "on")
                .withData("state", "ok".equals(health.state()) && !aofOk ? "degraded" : health.state())
                .withData("snapshots_taken", status.snapshotsTaken())
                .withData("snapshots_failed", status.snapshotsFailed())
                .withData("failure_threshold_seconds", threshold.toSeconds());
        health.lastGood().ifPresent(good -> response
                .withData("last_snapshot_generation", good.generation())
                .withData("last_snapshot_age_seconds", Duration.between(good.takenAt(), now).toSeconds()));
        status.lastFailure().ifPresent(failure -> response.withData("last_error", failure));
        health.failingFor().ifPresent(d -> response.withData("failing_for_seconds", d.toSeconds()));
        return response.status(health.up()).build();
    }
}
