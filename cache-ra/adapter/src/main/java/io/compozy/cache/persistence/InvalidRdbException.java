package io.compozy.cache.persistence;

/**
 * An RDB file the embedded Redis could not load, or would load wrongly; the message says what is wrong with
 * it (never a value from it). An IllegalArgumentException, as {@link io.compozy.cache.api.Persistence} states
 * for a refused upload.
 */
public final class InvalidRdbException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    public InvalidRdbException(final String problem) {
        super(problem);
    }
}
