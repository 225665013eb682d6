package io.compozy.cache.persistence;

import io.compozy.cache.config.PersistenceSettings;
import java.io.IOException;

/** The configured encryption key cannot open a generation: a configuration error, never corruption. */
final class WrongKeyException extends IOException {

    private static final long serialVersionUID = 1L;

    WrongKeyException(final long generation, final boolean keyConfigured) {
        super(keyConfigured
                ? PersistenceSettings.ENCRYPTION_KEY + " does not match the key snapshot generation " + generation
                        + " was encrypted with; set the key it was written with"
                : "snapshot generation " + generation + " is encrypted but " + PersistenceSettings.ENCRYPTION_KEY
                        + " is not set; set the key it was written with");
    }
}
