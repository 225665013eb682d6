package io.compozy.cache.migration;

/** An import could not be completed; the message names the key or the step, never a value or a secret. */
public final class ImportFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public ImportFailure(final String message, final Throwable cause) {
        super(message, cause);
    }
}
