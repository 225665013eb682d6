package io.compozy.cache.web.store;

import java.util.Objects;

/**
 * What a store reports when a request cannot be done. The {@link Reason} says which kind of failure it
 * is (the REST layer maps it to a status); the message names the key and what to do, never a secret.
 */
public class StoreException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The kinds of failure callers act on differently. */
    public enum Reason {
        /** The key, resource or name does not exist. */
        NOT_FOUND,
        /** Insert-if-absent found an existing value. */
        ALREADY_EXISTS,
        /** A compare-and-set found other bytes than the caller's ETag names. */
        ETAG_MISMATCH,
        /** The thing is held or pending already (a lock, a flush mark, a webhook delivery). */
        CONFLICT,
        /** A lock release named a lock that nobody holds. */
        NOT_HELD,
        /** A lock release came with a token that does not own the lock. */
        NOT_OWNER,
        /** A store's limit (its configuration key in the message) would be passed; nothing was changed. */
        LIMIT_REACHED,
        /** The caller's input is invalid (a bad id, a negative count, an invalid definition). */
        INVALID_ARGUMENT,
        /** Stored data could not be decoded (written by something else, or damaged). */
        CORRUPT_DATA
    }

    private final Reason reason;

    public StoreException(final Reason reason, final String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public StoreException(final Reason reason, final String message, final Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }

    public static StoreException notFound(final String message) {
        return new StoreException(Reason.NOT_FOUND, message);
    }

    public static StoreException invalid(final String message) {
        return new StoreException(Reason.INVALID_ARGUMENT, message);
    }

    /** Fails with {@link Reason#INVALID_ARGUMENT} when {@code value} is null or blank. */
    public static String requireText(final String value, final String what) {
        if (value == null || value.isBlank()) {
            throw invalid(what + " must not be empty");
        }
        return value;
    }
}
