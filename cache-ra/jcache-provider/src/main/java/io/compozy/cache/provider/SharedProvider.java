package io.compozy.cache.provider;

import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import javax.cache.CacheException;
import javax.cache.spi.CachingProvider;

/**
 * Where the resource adapter leaves its JCache provider for code that cannot see the adapter's classes
 * (Liberty's sessionCache-1.0 loads {@link CompozyCachingProvider} from a shared library). One class
 * loader, the library's, holds this class: the adapter reaches it through {@code commonLibraryRef}, Liberty
 * through {@code libraryRef}, so both see the same static field.
 */
public final class SharedProvider {

    /** How long a caller waits for the adapter to start before the call fails. */
    static final Duration START_WAIT = Duration.ofSeconds(120);

    private static final ReentrantLock LOCK = new ReentrantLock();
    private static final Condition REGISTERED = LOCK.newCondition();
    private static CachingProvider current;

    private SharedProvider() {
    }

    /** Called by the adapter once its client is up. */
    public static void register(final CachingProvider provider) {
        LOCK.lock();
        try {
            current = provider;
            REGISTERED.signalAll();
        } finally {
            LOCK.unlock();
        }
    }

    /** Called by the adapter when it stops; later calls wait for the next start. */
    public static void unregister(final CachingProvider provider) {
        LOCK.lock();
        try {
            if (current == provider) {
                current = null;
            }
        } finally {
            LOCK.unlock();
        }
    }

    /**
     * The adapter's provider, waiting up to {@link #START_WAIT} while the adapter starts (Liberty may
     * start an application's session store before the resource adapter has connected).
     */
    static CachingProvider await() {
        LOCK.lock();
        try {
            long nanos = START_WAIT.toNanos();
            while (current == null) {
                if (nanos <= 0) {
                    throw new CacheException("The Compozy cache resource adapter has not started within "
                            + START_WAIT.toSeconds() + " s: its JCache provider (sessions in the cache) is not"
                            + " available. messages.log says why on a line starting 'Compozy cache did not start:';"
                            + " the <resourceAdapter> needs <classloader commonLibraryRef=\"compozyJCache\"/>"
                            + " (docs/deployment.md)");
                }
                nanos = REGISTERED.awaitNanos(nanos);
            }
            return current;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CacheException("Interrupted while waiting for the Compozy cache resource adapter", e);
        } finally {
            LOCK.unlock();
        }
    }
}
