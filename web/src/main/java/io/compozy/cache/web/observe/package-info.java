/**
 * Metrics and health of the cache, for operators (docs/observability.md).
 *
 * <p>Store operations are counted and timed in one place, {@link io.compozy.cache.web.observe.MeteredInterceptor},
 * bound to the store methods annotated {@link io.compozy.cache.web.observe.Metered}. The adapter's own numbers
 * (snapshots, restores, the embedded server's memory) are read through the API by
 * {@link io.compozy.cache.web.observe.BackendMetrics}. MicroProfile Health checks say whether the cache is
 * ready (started, restored, answering PING, snapshots not failing for too long) and alive (the embedded
 * redis-server process exists).
 */
package io.compozy.cache.web.observe;
