package io.compozy.cache.web.admin;

import io.compozy.cache.api.CacheConnection;
import io.compozy.cache.api.Persistence;
import io.compozy.cache.web.client.CacheConnections;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.Resource;
import jakarta.ejb.ConcurrencyManagement;
import jakarta.ejb.ConcurrencyManagementType;
import jakarta.ejb.Singleton;
import jakarta.ejb.Startup;
import jakarta.ejb.Timeout;
import jakarta.ejb.Timer;
import jakarta.ejb.TimerConfig;
import jakarta.ejb.TimerService;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Drives the periodic snapshots of standalone persistence at {@code snapshot_interval}. The timer is
 * programmatic and non-persistent: it needs no datasource and lives exactly as long as the application.
 * The adapter does the work on its own thread and skips (and counts) a tick that finds a snapshot still
 * running; bean-managed concurrency lets such a tick reach it instead of queueing on a container lock.
 *
 * <p>No JTA transaction: nothing here is transactional (Redis and JE are not XA resources), and every
 * container transaction arms a timeout alarm on Liberty's transaction manager, whose scheduler adds a
 * thread ({@code pool-N-thread-M}) per alarm up to ten; with the default REQUIRED each tick and each
 * start or stop of this bean did.
 */
@Singleton
@Startup
@ConcurrencyManagement(ConcurrencyManagementType.BEAN)
@TransactionAttribute(TransactionAttributeType.NOT_SUPPORTED)
public class SnapshotTimer {

    private static final Logger LOG = Logger.getLogger(SnapshotTimer.class.getName());

    @Resource
    TimerService timerService;

    @Inject
    CacheConnections cache;

    private static final Duration RETRY = Duration.ofSeconds(5);
    private static final String RETRY_INFO = "retry-schedule";

    private volatile Persistence persistence;
    private volatile boolean waitingForCache;

    @PostConstruct
    void schedule() {
        Optional<Persistence> found;
        try {
            found = cache.call(CacheConnection::persistence);
        } catch (RuntimeException e) {
            // The adapter is not (yet) up: when Liberty restarts the adapter it may start this application
            // first. Try again until it is; /api/admin/status says why meanwhile.
            if (!waitingForCache) {
                LOG.warning("No snapshot timer yet: the cache is not available (" + e.getMessage() + "); trying"
                        + " again every " + RETRY.toSeconds() + " s");
                waitingForCache = true;
            }
            timerService.createSingleActionTimer(RETRY.toMillis(), new TimerConfig(RETRY_INFO, false));
            return;
        }
        if (found.isEmpty()) {
            LOG.info("No snapshot timer: persistence is off (distributed mode, or"
                    + " redis.standalone.persistence.enabled=false)");
            return;
        }
        persistence = found.get();
        Duration every = persistence.status().snapshotInterval();
        timerService.createIntervalTimer(every.toMillis(), every.toMillis(), new TimerConfig(null, false));
        LOG.info("Snapshot timer started: every " + every + " into " + persistence.status().dataDir());
    }

    @Timeout
    void tick(final Timer timer) {
        if (RETRY_INFO.equals(timer.getInfo())) {
            schedule();
            return;
        }
        Persistence current = persistence;
        if (current == null) {
            return;
        }
        try {
            current.snapshot();
        } catch (RuntimeException e) {
            // Logged in full by the adapter; the timer keeps running for the next interval.
            LOG.log(Level.FINE, "periodic snapshot failed", e);
        }
    }
}
