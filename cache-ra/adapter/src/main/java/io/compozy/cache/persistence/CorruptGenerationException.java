package io.compozy.cache.persistence;

import java.io.IOException;

/** One generation cannot be read back intact; an older one may still be. */
final class CorruptGenerationException extends IOException {

    private static final long serialVersionUID = 1L;

    CorruptGenerationException(final long generation, final String problem) {
        super("generation " + generation + " is corrupt: " + problem);
    }

    CorruptGenerationException(final long generation, final String problem, final Throwable cause) {
        super("generation " + generation + " is corrupt: " + problem, cause);
    }
}
