package io.compozy.cache.web.client;

/**
 * The cache cannot be reached through the adapter (it did not start, or it stopped). The message is
 * the adapter's own reason (an invalid key, an unreachable address) and never holds a secret.
 */
public class CacheUnavailableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public CacheUnavailableException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
