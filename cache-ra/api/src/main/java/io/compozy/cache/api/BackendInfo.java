package io.compozy.cache.api;

/**
 * What an application or an operator may know about the active backend. Holds no secret.
 *
 * @param mode {@code standalone} or {@code distributed}
 * @param kind {@code embedded} (a redis-server the adapter started) or {@code redis} (external)
 * @param host the host the client connects to
 * @param port the port the client connects to
 * @param database the Redis database index
 * @param tls whether the connection uses TLS ({@code rediss://})
 * @param redisVersion the server's {@code redis_version}
 * @param processId the embedded redis-server's process id, or -1 for an external Redis
 * @param embeddedRestarts how many times the adapter started the embedded redis-server again after it
 *     died (same address, newest snapshot restored) since the adapter started; 0 for an external Redis
 * @param redisBinary what the embedded redis-server is ("7.0.15 with Debian security fixes deb12u10", or the
 *     operator's own binary's {@code --version}); empty for an external Redis
 */
public record BackendInfo(
        String mode,
        String kind,
        String host,
        int port,
        int database,
        boolean tls,
        String redisVersion,
        long processId,
        long embeddedRestarts,
        String redisBinary) {

    /** True when the adapter runs its own redis-server. */
    public boolean embedded() {
        return "embedded".equals(kind);
    }
}
