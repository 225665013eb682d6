package io.compozy.cache.web.observe;

import io.compozy.cache.web.client.CacheConnections;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.metrics.Counter;
import org.eclipse.microprofile.metrics.Metadata;
import org.eclipse.microprofile.metrics.MetricRegistry;
import org.eclipse.microprofile.metrics.Tag;
import org.eclipse.microprofile.metrics.Timer;

/**
 * The operation metrics of the stores. Metric objects are looked up once per (operation, status) and kept,
 * so a measured call costs two clock reads, one map lookup and two updates; with
 * {@value #ENABLED_KEY}{@code =false} it costs one boolean check.
 *
 * <p>Names are chosen for Liberty's Prometheus output (MicroProfile Metrics 5.1): a counter named
 * {@code ..._total} keeps its name, a timer gains {@code _seconds}; every series also carries
 * {@code mp_scope="application"}.
 */
@ApplicationScoped
public class CacheMetrics {

    /** Config key: whether store operations are measured; default true. */
    public static final String ENABLED_KEY = "compozy.metrics.enabled";
    public static final String DEFAULT_ENABLED = "true";

    static final String OPERATIONS = "compozy_cache_operations_total";
    /** Printed as {@code compozy_cache_operation_duration_seconds} (histogram, buckets in microprofile-config.properties). */
    static final String OPERATION_DURATION = "compozy_cache_operation_duration";

    private static final Metadata OPERATIONS_METADATA = Metadata.builder().withName(OPERATIONS)
            .withDescription("Cache store operations by backend, operation and outcome").build();
    private static final Metadata DURATION_METADATA = Metadata.builder().withName(OPERATION_DURATION)
            .withDescription("Cache store operation latency").build();

    private final MetricRegistry registry;
    private final CacheConnections connections;
    private final boolean enabled;
    private final Map<Method, Operation> operations = new ConcurrentHashMap<>();
    private volatile String backend;

    /** For CDI's proxy only. */
    protected CacheMetrics() {
        this.registry = null;
        this.connections = null;
        this.enabled = false;
    }

    @Inject
    public CacheMetrics(final MetricRegistry registry, final CacheConnections connections,
            @ConfigProperty(name = ENABLED_KEY, defaultValue = DEFAULT_ENABLED) final boolean enabled) {
        this.registry = registry;
        this.connections = connections;
        this.enabled = enabled;
    }

    public boolean enabled() {
        return enabled;
    }

    /** The metrics of the store method {@code method}, created on its first call. */
    Operation operation(final Method method) {
        Operation operation = operations.get(method);
        return operation != null ? operation : operations.computeIfAbsent(method, this::newOperation);
    }

    /** {@code embedded} or {@code redis}: fixed for the life of the adapter, read once. */
    String backend() {
        String kind = backend;
        if (kind == null) {
            kind = connections.call(connection -> connection.backend().kind());
            backend = kind;
        }
        return kind;
    }

    private Operation newOperation(final Method method) {
        Metered metered = method.getAnnotation(Metered.class);
        if (metered == null) {
            metered = method.getDeclaringClass().getAnnotation(Metered.class);
        }
        String name = metered == null || metered.value().isEmpty() ? snakeCase(method) : metered.value();
        String absent = metered == null ? "" : metered.absent();
        return new Operation(name, absent);
    }

    static String snakeCase(final Method method) {
        return method.getDeclaringClass().getSimpleName().replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase()
                + "_" + method.getName().replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase();
    }

    /** The counters and the timer of one operation. */
    final class Operation {
        private final String name;
        private final String absent;
        private final Tag backendTag;
        private final Tag operationTag;
        private final Timer duration;
        private final Counter ok;
        private final Map<String, Counter> byStatus = new ConcurrentHashMap<>();

        private Operation(final String name, final String absent) {
            this.name = name;
            this.absent = absent;
            this.backendTag = new Tag("backend", backend());
            this.operationTag = new Tag("operation", name);
            this.duration = registry.timer(DURATION_METADATA, backendTag, operationTag);
            this.ok = counter(Outcome.OK);
        }

        String name() {
            return name;
        }

        String absent() {
            return absent;
        }

        void record(final long startNanos, final String status) {
            duration.update(Duration.ofNanos(System.nanoTime() - startNanos));
            (Outcome.OK.equals(status) ? ok : byStatus.computeIfAbsent(status, this::counter)).inc();
        }

        private Counter counter(final String status) {
            return registry.counter(OPERATIONS_METADATA, backendTag, operationTag, new Tag("status", status));
        }
    }
}
