/**
 * The embedded redis-server of standalone mode: a real Redis 7 process (the statically linked build of
 * Debian's security-patched 7.0.15 that the compozy-cache-redis-server jar carries, checked against its
 * recorded SHA-256; {@code org.signal:embedded-redis}'s upstream 7.0.15 on other platforms; or the
 * operator's own, see {@link io.compozy.cache.embedded.RedisBinary}), bound to 127.0.0.1 on a free
 * port, protected by a password generated at each start, and tied to the JVM's life so that it never
 * outlives a killed server.
 */
package io.compozy.cache.embedded;
