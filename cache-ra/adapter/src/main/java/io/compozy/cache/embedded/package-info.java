/**
 * The embedded redis-server of standalone mode: a real Redis 7 process (the statically linked binary
 * that {@code org.signal:embedded-redis} bundles, or the operator's own), bound to 127.0.0.1 on a free
 * port, protected by a password generated at each start, and tied to the JVM's life so that it never
 * outlives a killed server.
 */
package io.compozy.cache.embedded;
