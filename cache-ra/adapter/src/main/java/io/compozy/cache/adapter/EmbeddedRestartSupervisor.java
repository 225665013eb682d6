package io.compozy.cache.adapter;

import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import io.compozy.cache.persistence.PersistenceException;
import io.compozy.cache.persistence.SnapshotManager;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ObjLongConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Watches the embedded redis-server and starts it again, on the same address, when it dies; follows the
 * process a restore puts in its place. Tells the backend each process that takes over.
 */
final class EmbeddedRestartSupervisor {

    // The backend's logger, as before the split: logging configurations name CacheBackend.
    private static final Logger LOG = Logger.getLogger(CacheBackend.class.getName());
    /** Attempts to restart a dead embedded server before giving up (liveness then says so). */
    private static final int RESTART_ATTEMPTS = 5;
    private static final long RESTART_BACKOFF_MS = 1_000;
    private static final long RESTART_STOP_WAIT_SECONDS = 60;

    private final Optional<SnapshotManager> persistence;
    private final CacheSettings.Standalone standalone;
    private final Executor pump;
    /** Told the process now serving and the restarts so far. */
    private final ObjLongConsumer<EmbeddedRedisServer> serving;
    private final AtomicLong restarts = new AtomicLong();
    /** Runs restarts one at a time, off the process reaper's thread. */
    private final ExecutorService restarter = Executors.newSingleThreadExecutor(task -> {
        Thread thread = new Thread(task, "compozy-cache-embedded-restart");
        thread.setDaemon(true);
        return thread;
    });
    private volatile boolean closing;

    /** Starts watching {@code server}, and the servers a restore of {@code persistence} starts. */
    EmbeddedRestartSupervisor(final EmbeddedRedisServer server, final Optional<SnapshotManager> persistence,
                              final CacheSettings.Standalone standalone, final Executor pump,
                              final ObjLongConsumer<EmbeddedRedisServer> serving) {
        this.persistence = persistence;
        this.standalone = standalone;
        this.pump = pump;
        this.serving = serving;
        watch(server);
        persistence.ifPresent(manager -> manager.onServerReplaced(this::replaced));
    }

    /** Restarts of the embedded redis-server since the adapter started. */
    long restarts() {
        return restarts.get();
    }

    /** From now on a dead server stays dead: the cache is stopping. */
    void stopRestarting() {
        closing = true;
    }

    private void watch(final EmbeddedRedisServer server) {
        // Completes on the JDK's process reaper thread: hand the work over at once.
        server.onExit().thenRun(() -> {
            if (closing || persistence.map(manager -> manager.stoppedOnPurpose(server)).orElse(false)) {
                return; // stopping, or a restore replaces it (and tells replaced())
            }
            LOG.warning("The embedded redis-server (pid " + server.pid() + ") exited unexpectedly; starting it again"
                    + " on " + server.host() + ":" + server.port() + (persistence.isEmpty()
                            ? " empty (persistence is off)"
                            : standalone.persistence().appendOnly()
                                    ? " from its append-only file (no acknowledged write is lost)"
                                    : " from the newest snapshot (writes since that snapshot are lost)"));
            try {
                restarter.execute(() -> restart(server));
            } catch (RejectedExecutionException e) {
                LOG.fine("not restarting: the cache is stopping");
            }
        });
    }

    /** A restore started the server again on a chosen generation: watch the new process, report its pid. */
    private void replaced(final EmbeddedRedisServer started) {
        serving.accept(started, restarts.get());
        watch(started);
    }

    /** Restarts the dead server on its address, a few times with a growing pause, until one start succeeds. */
    private void restart(final EmbeddedRedisServer dead) {
        long begin = System.nanoTime();
        for (int attempt = 1; attempt <= RESTART_ATTEMPTS && !closing; attempt++) {
            try {
                EmbeddedRedisServer started = persistence.isPresent()
                        ? persistence.get().restartServer(dead, standalone, pump)
                        : EmbeddedRedisServer.startAgain(dead, standalone, pump, Optional.empty());
                if (closing) {
                    started.close();
                    return;
                }
                long count = restarts.incrementAndGet();
                serving.accept(started, count);
                watch(started);
                LOG.info("The embedded redis-server runs again: pid " + started.pid() + " on " + started.host() + ":"
                        + started.port() + ", restart " + count + " since start, "
                        + (System.nanoTime() - begin) / 1_000_000 + " ms after the exit was noticed");
                return;
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.WARNING, "Restarting the embedded redis-server failed (attempt " + attempt + " of "
                        + RESTART_ATTEMPTS + "): " + e.getMessage(), e);
                if (e instanceof PersistenceException) {
                    break; // no snapshot restores: starting empty would pass lost data for an empty cache
                }
                pauseUnlessClosing(RESTART_BACKOFF_MS << (attempt - 1));
            }
        }
        if (!closing) {
            LOG.severe("The embedded redis-server is down and was not restarted after " + RESTART_ATTEMPTS
                    + " attempts; every cache operation fails until the server is restarted (see the lines above)");
        }
    }

    private void pauseUnlessClosing(final long millis) {
        long until = System.nanoTime() + millis * 1_000_000;
        while (!closing && System.nanoTime() < until) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Lets a running restart finish (it notices {@link #stopRestarting}); never interrupts it (JE I/O). */
    void awaitRestart() {
        restarter.shutdown();
        try {
            if (!restarter.awaitTermination(RESTART_STOP_WAIT_SECONDS, TimeUnit.SECONDS)) {
                LOG.warning("A restart of the embedded redis-server is still running; stopping anyway");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
