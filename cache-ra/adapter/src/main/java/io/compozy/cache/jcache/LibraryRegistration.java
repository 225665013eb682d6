package io.compozy.cache.jcache;

import io.compozy.cache.provider.SharedProvider;
import java.util.logging.Logger;
import javax.cache.spi.CachingProvider;

/**
 * Hands the adapter's provider to the JCache provider jar that Liberty loads from a shared library
 * (sessions in the cache, docs/deployment.md). That jar is visible here only when the server gives the
 * resource adapter {@code <classloader commonLibraryRef="compozyJCache"/>}; without it there is nothing
 * to register and the rest of the adapter works as before.
 */
public final class LibraryRegistration {

    private static final Logger LOG = Logger.getLogger(LibraryRegistration.class.getName());

    private LibraryRegistration() {
    }

    /** @return whether the library was there to receive the provider */
    public static boolean register(final CachingProvider provider) {
        try {
            SharedProvider.register(provider);
            return true;
        } catch (LinkageError e) {
            LOG.fine(() -> "No JCache provider library is shared with the adapter (" + e + "); Liberty's"
                    + " sessionCache-1.0 cannot use the cache");
            return false;
        }
    }

    /** Tells the library's callers the adapter did not start, so they fail at once with the reason. */
    public static void failed(final String reason) {
        try {
            SharedProvider.failed(reason);
        } catch (LinkageError e) {
            // No library shared with the adapter: nobody waits.
        }
    }

    public static void unregister(final CachingProvider provider) {
        try {
            SharedProvider.unregister(provider);
        } catch (LinkageError e) {
            // Never registered.
        }
    }
}
