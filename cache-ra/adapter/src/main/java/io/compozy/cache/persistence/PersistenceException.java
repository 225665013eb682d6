package io.compozy.cache.persistence;

/**
 * Persistence cannot do what it must: the store cannot be opened or is in use by another server, or no
 * stored generation can be restored. The message names the data directory and what to do; never a secret.
 */
public final class PersistenceException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public PersistenceException(final String message) {
        super(message);
    }

    public PersistenceException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
