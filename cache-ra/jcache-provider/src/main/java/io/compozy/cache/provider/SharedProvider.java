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
    /** Why the adapter did not start; callers fail at once with it. Null once a start succeeds. */
    private static String failed;
    /** Set while a started adapter is stopped; calls on caches fail at once (see {@link #running()}). */
    private static String stopped;

    private SharedProvider() {
    }

    /** Called by the adapter once its client is up. */
    public static void register(final CachingProvider provider) {
        LOCK.lock();
        try {
            current = provider;
            failed = null;
            stopped = null;
            REGISTERED.signalAll();
        } finally {
            LOCK.unlock();
        }
    }

    /** Called by the adapter when it stops; until it starts again, calls on caches fail at once. */
    public static void unregister(final CachingProvider provider) {
        LOCK.lock();
        try {
            if (current == provider) {
                current = null;
                stopped = "The Compozy cache resource adapter has stopped (server stopping, or the adapter being"
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
                failed = "The Compozy cache resource adapter did not start, so sessions in the cache are not"
                        + " available: " + reason;
                REGISTERED.signalAll();
            }
        } finally {
            LOCK.unlock();
        }
    }

    /**
     * The adapter's provider, for creating managers: waits up to {@link #START_WAIT} while the adapter starts,
     * or is being replaced (Liberty may start an application's session store before the resource adapter has
     * connected, also after a hot RAR update); fails at once when its start failed.
     */
    static CachingProvider await() {
        return await(true);
    }

    /**
     * The adapter's provider, for calls on caches: as {@link #await()}, but failing at once while a started
     * adapter is stopped. At a server stop Liberty passivates every session after the adapter has gone; a
     * wait there held the stop for {@link #START_WAIT} per call (seen: a stop that never finished).
     */
    static CachingProvider running() {
        return await(false);
    }

    private static CachingProvider await(final boolean waitAcrossStop) {
        LOCK.lock();
        try {
            long nanos = START_WAIT.toNanos();
            while (current == null) {
                if (failed != null) {
                    throw new CacheException(failed);
                }
                if (!waitAcrossStop && stopped != null) {
                    throw new CacheException(stopped);
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
