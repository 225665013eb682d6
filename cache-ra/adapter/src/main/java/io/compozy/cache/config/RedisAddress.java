package io.compozy.cache.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Optional;

/**
 * Where the external Redis is: {@code redis://host:port/db}, {@code rediss://} for TLS, or the spec's
 * bare {@code host:port}. Credentials in the URI are accepted but never shown by {@link #toString()}.
 */
public record RedisAddress(boolean tls, String host, int port, int database,
                           Optional<String> username, Optional<Secret> password) {

    public static final int DEFAULT_PORT = 6379;

    /** @throws InvalidConfigurationException naming {@code key}; the message masks any password */
    public static RedisAddress parse(final String key, final String raw) {
        String text = raw.contains("://") ? raw : "redis://" + raw;
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw invalid(key, raw, "it is not a URI");
        }
        String scheme = uri.getScheme();
        if (!"redis".equals(scheme) && !"rediss".equals(scheme)) {
            throw invalid(key, raw, "the scheme must be redis:// or rediss://");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw invalid(key, raw, "it names no host");
        }
        int port = uri.getPort() == -1 ? DEFAULT_PORT : uri.getPort();
        if (port < 1 || port > 65535) {
            throw invalid(key, raw, "the port must be between 1 and 65535");
        }
        int database = 0;
        String path = uri.getPath() == null ? "" : uri.getPath();
        if (!path.isEmpty() && !"/".equals(path)) {
            try {
                database = Integer.parseInt(path.substring(1));
            } catch (NumberFormatException e) {
                throw invalid(key, raw, "the path must be a database index such as /0");
            }
            if (database < 0) {
                throw invalid(key, raw, "the database index must not be negative");
            }
        }
        if (uri.getQuery() != null || uri.getFragment() != null) {
            throw invalid(key, raw, "query parameters and fragments are not supported");
        }
        Optional<String> username = Optional.empty();
        Optional<Secret> password = Optional.empty();
        if (uri.getUserInfo() != null) {
            String userInfo = uri.getUserInfo();
            int colon = userInfo.indexOf(':');
            String user = colon < 0 ? userInfo : userInfo.substring(0, colon);
            username = Optional.of(user).filter(u -> !u.isEmpty());
            if (colon >= 0) {
                password = Optional.of(Secret.of(userInfo.substring(colon + 1)));
            }
        }
        return new RedisAddress("rediss".equals(scheme), uri.getHost(), port, database, username, password);
    }

    /** The URI Redisson connects to; it carries no credentials. */
    public String redissonUri() {
        String host = this.host.contains(":") && !this.host.startsWith("[") ? "[" + this.host + "]" : this.host;
        return (tls ? "rediss://" : "redis://") + host + ":" + port;
    }

    @Override
    public String toString() {
        return redissonUri() + "/" + database;
    }

    private static InvalidConfigurationException invalid(final String key, final String raw, final String why) {
        return new InvalidConfigurationException(key, "'" + masked(raw) + "' is not a Redis address ("
                + why + "); write redis://host:port/db or rediss://host:port/db");
    }

    /** Hides what stands between "://" and "@", where a URI carries credentials. */
    static String masked(final String raw) {
        int at = raw.lastIndexOf('@');
        if (at < 0) {
            return raw;
        }
        int start = raw.indexOf("://");
        start = start < 0 ? 0 : start + 3;
        return start <= at ? raw.substring(0, start) + "******" + raw.substring(at) : raw;
    }
}
