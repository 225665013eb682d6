package io.compozy.cache.config;

/** A configuration value the adapter cannot use. The message names the key and never a secret. */
public final class InvalidConfigurationException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String key;

    public InvalidConfigurationException(final String key, final String problem) {
        super("Invalid configuration '" + key + "': " + problem);
        this.key = key;
    }

    /** The configuration key that was wrong, as the operator writes it. */
    public String key() {
        return key;
    }
}
