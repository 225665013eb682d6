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
    /**
     * Why there is no provider when callers must not wait for one: the adapter stopped (and has not started
     * again), or its start failed. Null while a first start may still come.
     */
    private static String unavailable;

    private SharedProvider() {
    }

    /** Called by the adapter once its client is up. */
    public static void register(final CachingProvider provider) {
        LOCK.lock();
        try {
            current = provider;
            unavailable = null;
            REGISTERED.signalAll();
        } finally {
            LOCK.unlock();
        }
    }

    /**
     * Called by the adapter when it stops. Until it starts again, calls fail at once: at a server stop
     * Liberty passivates every session after the adapter has gone, and a wait would hold the stop for
     * {@link #START_WAIT} per call (seen: a server stop that never finished).
     */
    public static void unregister(final CachingProvider provider) {
        LOCK.lock();
        try {
            if (current == provider) {
                current = null;
                unavailable = "The Compozy cache resource adapter has stopped (server stopping, or the adapter being"
                        + " replaced): sessions in the cache are not available until it runs again";
                REGISTERED.signalAll();
            }
        } finally {
            LOCK.unlock();
        }
    }

    /**
     * Called by the adapter when its start failed: callers fail at once with {@code reason} (safe to show:
     * it names the key or the address, never a secret) instead of waiting {@link #START_WAIT} each, which
     * held every application's start and the server's stop for minutes.
     */
    public static void failed(final String reason) {
        LOCK.lock();
        try {
            if (current == null) {
                unavailable = "The Compozy cache resource adapter did not start, so sessions in the cache are not"
                        + " available: " + reason;
                REGISTERED.signalAll();
            }
        } finally {
            LOCK.unlock();
        }
    }

    /**
     * The adapter's provider, waiting up to {@link #START_WAIT} while the adapter starts for the first time
     * (Liberty may start an application's session store before the resource adapter has connected); once it
     * has stopped, failing at once until it runs again.
     */
    static CachingProvider await() {
        LOCK.lock();
        try {
            long nanos = START_WAIT.toNanos();
            while (current == null) {
                if (unavailable != null) {
                    throw new CacheException(unavailable);
                }
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
