package io.compozy.cache.web.observe;

import io.compozy.cache.web.store.StoreExecutors;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.metrics.Counter;
import org.eclipse.microprofile.metrics.Metadata;
import org.eclipse.microprofile.metrics.MetricRegistry;
import org.eclipse.microprofile.metrics.Tag;

/**
 * The JSR-107 statistics of the JCache caches on the shared client, as {@code compozy_jcache_*} gauges
 * with a {@code cache} tag. They come from the standard {@code javax.cache:type=CacheStatistics} beans
 * of every CacheManager the adapter handed out in this server (every application's, and Liberty's
 * session caches), summed per cache name. A task finds new caches every {@value BackendMetrics#REFRESH_KEY};
 * a scrape reads in-memory counters only. The same task counts the values the adapter's deserialization
 * allow-list refused ({@value #REJECTED}).
 */
@ApplicationScoped
public class JCacheMetrics {

    /** The adapter's managers register their beans under CacheManager=compozy-cache.jcache-N... */
    static final String MANAGER_PREFIX = "compozy-cache.jcache";
    /** The adapter's JCache deserialization allow-list publishes its refusals here. */
    static final String ALLOW_LIST_BEAN = "io.compozy.cache:type=JCacheDeserialization";
    static final String REJECTED = "compozy_jcache_deserialization_rejected_total";
    static final List<String> STATISTICS = List.of("CacheHits", "CacheMisses", "CachePuts", "CacheRemovals",
            "CacheEvictions");

    private static final Logger LOG = Logger.getLogger(JCacheMetrics.class.getName());

    private final MetricRegistry registry;
    private final StoreExecutors executors;
    private final boolean enabled;
    private final Duration refresh;
    private final MBeanServer jmx = ManagementFactory.getPlatformMBeanServer();
    private final Set<String> registered = ConcurrentHashMap.newKeySet();
    private ScheduledFuture<?> task;
    private Counter rejected;
    /** The adapter's count when last read; it starts again from 0 when the adapter does. */
    private long rejectedSeen;

    /** For CDI's proxy only. */
    protected JCacheMetrics() {
        this(null, null, false, Duration.ZERO);
    }

    @Inject
    public JCacheMetrics(final MetricRegistry registry, final StoreExecutors executors,
            @ConfigProperty(name = CacheMetrics.ENABLED_KEY, defaultValue = CacheMetrics.DEFAULT_ENABLED) final boolean enabled,
            @ConfigProperty(name = BackendMetrics.REFRESH_KEY, defaultValue = BackendMetrics.DEFAULT_REFRESH) final Duration refresh) {
        this.registry = registry;
        this.executors = executors;
        this.enabled = enabled;
        this.refresh = refresh;
    }

    void start(@Observes @Initialized(ApplicationScoped.class) final Object applicationStarted) {
        if (enabled) {
            rejected = registry.counter(Metadata.builder().withName(REJECTED).withDescription("JCache values refused"
                    + " because their class is not in the deserialization allow-list (compozy.jcache.allowed_classes)")
                    .build());
            long millis = Math.max(100, refresh.toMillis());
            task = executors.scheduler().scheduleWithFixedDelay(this::discover, 0, millis, TimeUnit.MILLISECONDS);
        }
    }

    @PreDestroy
    void stop() {
        if (task != null) {
            task.cancel(false);
        }
    }

    /** Registers the gauges of caches seen for the first time, and counts new refusals. */
    void discover() {
        try {
            countRefusals();
            for (ObjectName bean : beans()) {
                String cache = bean.getKeyProperty("Cache");
                if (cache != null && registered.add(cache)) {
                    register(cache);
                }
            }
        } catch (RuntimeException | JMException e) {
            LOG.log(Level.FINE, "reading the JCache statistics beans failed", e);
        }
    }

    private void countRefusals() throws JMException {
        ObjectName bean = new ObjectName(ALLOW_LIST_BEAN);
        if (!jmx.isRegistered(bean)) {
            return;
        }
        long count = ((Number) jmx.getAttribute(bean, "RejectedCount")).longValue();
        if (count > rejectedSeen) {
            rejected.inc(count - rejectedSeen);
        }
        rejectedSeen = count;
    }

    private void register(final String cache) {
        Tag tag = new Tag("cache", cache);
        for (String statistic : STATISTICS) {
            String name = "compozy_jcache_" + statistic.substring("Cache".length()).toLowerCase(java.util.Locale.ROOT);
            registry.gauge(Metadata.builder().withName(name).withDescription("JCache " + statistic
                    + " of this cache in this server since its managers were created (JSR-107 statistics)").build(),
                    () -> sum(cache, statistic), tag);
        }
    }

    /** The statistic summed over every manager's bean of this cache. */
    double sum(final String cache, final String statistic) {
        try {
            long total = 0;
            for (ObjectName bean : beans()) {
                if (cache.equals(bean.getKeyProperty("Cache"))) {
                    total += ((Number) jmx.getAttribute(bean, statistic)).longValue();
                }
            }
            return total;
        } catch (JMException | RuntimeException e) {
            return Double.NaN;
        }
    }

    private Set<ObjectName> beans() throws JMException {
        Set<ObjectName> all = jmx.queryNames(new ObjectName("javax.cache:type=CacheStatistics,*"), null);
        all.removeIf(name -> {
            String manager = name.getKeyProperty("CacheManager");
            return manager == null || !manager.startsWith(MANAGER_PREFIX);
        });
        return all;
    }
}
