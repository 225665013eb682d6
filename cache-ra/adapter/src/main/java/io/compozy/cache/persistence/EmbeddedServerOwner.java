package io.compozy.cache.persistence;

import io.compozy.cache.api.Persistence;
import io.compozy.cache.api.SnapshotFailedException;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.Secret;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.client.protocol.RedisCommands;
import org.redisson.client.protocol.RedisStrictCommand;
import org.redisson.client.protocol.convertor.VoidReplayConvertor;
import org.redisson.config.Config;

/**
 * The one owner of the running embedded redis-server: nothing else holds "the current server". Every start
 * goes through {@link StartSources} (or starts empty when persistence is off), and every change of process
 * (first start, restart after a crash, a restore and its fallback) and every snapshot runs on this owner's
 * one thread, so they never overlap. Once {@link #supervise() supervised}, a server that dies is started again
 * on the same address (port and password, so the one client reconnects by itself); whatever fails, the result
 * is a running server on the best data available, or a dead one whose reason is in messages.log (liveness
 * turns DOWN once the restarts gave up).
 */
public final class EmbeddedServerOwner implements AutoCloseable {

    // The backend's logger, as before the split: logging configurations name CacheBackend.
    private static final Logger LOG = Logger.getLogger("io.compozy.cache.adapter.CacheBackend");
    /** Attempts to restart a dead embedded server before giving up (readiness then says why). */
    private static final int RESTART_ATTEMPTS = 5;
    private static final long RESTART_BACKOFF_MS = 1_000;
    private static final long STOP_WAIT_MINUTES = 10;
    /** The data that was live before a restore (AOF off), in the work directory until the restore is done. */
    static final String LIVE_BEFORE_RESTORE = "live-before-restore.rdb";
    private static final RedisStrictCommand<Void> ACL_SETUSER =
            new RedisStrictCommand<>("ACL", "SETUSER", new VoidReplayConvertor());

    private final CacheSettings.Standalone standalone;
    private final Executor pump;
    /** Empty when persistence is off: the server then always starts empty. */
    private final Optional<StartSources> sources;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(task -> {
        Thread named = new Thread(task, "compozy-cache-snapshot");
        named.setDaemon(true);
        return named;
    });
    /** Pids of servers stopped on purpose (a restore): their exit is no crash. */
    private final Set<Long> stoppedOnPurpose = ConcurrentHashMap.newKeySet();
    private final AtomicLong restarts = new AtomicLong();
    /**
     * The ACL users of the applications' connection factories (name to ACL SETUSER rules). Redis keeps users in
     * memory only, so every server this owner starts in place of another gets them again before it is current.
     */
    private final Map<String, List<String>> applicationUsers = new ConcurrentHashMap<>();
    private volatile EmbeddedRedisServer server;
    private volatile boolean supervised;
    private volatile boolean closing;

    private EmbeddedServerOwner(final CacheSettings.Standalone standalone, final Executor pump,
                                final Optional<StartSources> sources) {
        this.standalone = standalone;
        this.pump = pump;
        this.sources = sources;
    }

    /** Starts the first server on the best data {@code sources} has (persistence on). */
    static EmbeddedServerOwner start(final CacheSettings.Standalone standalone, final Executor pump,
                                     final StartSources sources, final Optional<StartSources.ImportSource> importSource,
                                     final StartSources.FirstSnapshot firstSnapshot) throws IOException {
        EmbeddedServerOwner owner = new EmbeddedServerOwner(standalone, pump, Optional.of(sources));
        Path liveBefore = standalone.workDir().resolve(LIVE_BEFORE_RESTORE);
        if (Files.exists(liveBefore)) {
            // Never deleted here: it may hold writes newer than every generation.
            LOG.warning("A restore was interrupted (the server stopped during it): " + liveBefore + " holds the data"
                    + " that was live before it. This start does not load it; to get it back, upload it"
                    + " (POST /api/admin/snapshots with Content-Type: application/octet-stream) and restore that"
                    + " generation, then delete the file");
        }
        try {
            owner.server = owner.exclusively(() -> sources.start(owner.launcher(Optional.empty()), importSource,
                    firstSnapshot));
            return owner;
        } catch (RuntimeException e) {
            owner.thread.shutdown();
            throw e;
        }
    }

    /** Starts the first server empty (persistence off). */
    public static EmbeddedServerOwner startEmpty(final CacheSettings.Standalone standalone, final Executor pump)
            throws IOException {
        EmbeddedServerOwner owner = new EmbeddedServerOwner(standalone, pump, Optional.empty());
        owner.server = EmbeddedRedisServer.start(standalone, pump);
        return owner;
    }

    /** The running server; after a failed restart, the last one (its address is the one clients use). */
    public EmbeddedRedisServer current() {
        return Objects.requireNonNull(server, "the embedded server has not started");
    }

    /** Restarts of the embedded redis-server since it was first started. */
    public long restarts() {
        return restarts.get();
    }

    /** From now on a server that dies is started again. */
    public void supervise() {
        supervised = true;
        watch(current());
    }

    /**
     * Creates (or replaces) the ACL user {@code name} on the running server, and on every server started in its
     * place from now on. The rules hold its password: no message of a failure repeats them.
     */
    public void grant(final String name, final List<String> rules) throws IOException {
        exclusively(() -> {
            applicationUsers.put(name, List.copyOf(rules));
            applyUsers(current(), Map.of(name, rules));
            return null;
        });
    }

    /** On the owner's thread, once {@code started} runs: the application users come back with it. */
    private void giveUsersTo(final EmbeddedRedisServer started) {
        try {
            applyUsers(started, applicationUsers);
        } catch (IOException e) {
            LOG.severe("The applications' Redis users could not be created on the restarted embedded redis-server ("
                    + e.getMessage() + "): their connection factories are refused until the cache restarts");
        }
    }

    private static void applyUsers(final EmbeddedRedisServer on, final Map<String, List<String>> users)
            throws IOException {
        if (users.isEmpty()) {
            return;
        }
        try (ControlConnection redis = ControlConnection.open(on.host(), on.port(), on.password())) {
            for (Map.Entry<String, List<String>> user : users.entrySet()) {
                List<Object> arguments = new ArrayList<>();
                arguments.add(user.getKey());
                arguments.addAll(user.getValue());
                try {
                    redis.sync(ACL_SETUSER, arguments.toArray());
                } catch (IOException e) {
                    // Redis's own words only: the exception Redisson chained names the arguments, the password too.
                    throw new IOException("ACL SETUSER " + user.getKey() + " was refused: " + e.getMessage());
                }
            }
        }
    }

    /** Runs {@code work} on the owner's thread, after any start, restart, restore or snapshot in progress. */
    <T> T exclusively(final Callable<T> work) throws IOException {
        Future<T> future;
        try {
            future = thread.submit(work);
        } catch (RejectedExecutionException e) {
            throw new IllegalStateException("The Compozy cache has stopped", e);
        }
        try {
            return future.get();
        } catch (InterruptedException e) {
            // Never interrupt the work (JE I/O): only the waiting ends.
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting; the work continues in the background");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        }
    }

    /** Work on the restored server before any client is let in; it handles its own failures (the restore stands). */
    @FunctionalInterface
    interface BeforeUnlock {
        void run(EmbeddedRedisServer restored);
    }

    /**
     * A restore on request, on the owner's thread: the data now live is kept (the AOF stays where it is; without
     * an AOF its RDB is saved in the work directory first), the server stops, and a new one starts on {@code chosen}
     * with a password no client has. {@code beforeServing} and then {@code beforeUnlock} run on it, and only then
     * are the clients let in, so what they run on sees the restored data and nothing a client wrote since.
     * If the start fails, the server starts again on the data that was live before; if even that fails, it is
     * restarted as after a crash.
     *
     * @throws SnapshotFailedException naming what failed, what runs now and whether that is the live data of before
     */
    void restore(final StoredGeneration chosen, final Optional<Persistence.BeforeServing> beforeServing,
                 final BeforeUnlock beforeUnlock) throws IOException {
        StartSources start = sources.orElseThrow();
        EmbeddedRedisServer old = current();
        Optional<Path> liveBefore = Optional.empty();
        if (!standalone.persistence().appendOnly()) {
            // Without an AOF, what is live exists only in memory: save it, or a failed restore would lose it.
            BgsaveCapture.run(old);
            Path saved = standalone.workDir().resolve(LIVE_BEFORE_RESTORE);
            Files.move(old.rdbFile(), saved, StandardCopyOption.REPLACE_EXISTING);
            liveBefore = Optional.of(saved);
        }
        try {
            stoppedOnPurpose.add(old.pid());
            old.close();
            try {
                server = startLocked(chosen, old, beforeServing, beforeUnlock);
                giveUsersTo(server);
            } catch (IOException | RuntimeException e) {
                LOG.warning("Generation " + chosen.generation() + " could not be restored (" + e.getMessage()
                        + "); starting the server again on the data that was live before the restore");
                if (comeBack(old, liveBefore)) {
                    throw new SnapshotFailedException("Generation " + chosen.generation() + " could not be restored: "
                            + e.getMessage() + ". The server runs again on the data that was live before the restore"
                            + " (" + start.loadedFrom() + "); the live data did not change", false, e);
                }
                throw new SnapshotFailedException("Generation " + chosen.generation() + " could not be restored ("
                        + e.getMessage() + "), and the server did not start again on the data that was live before"
                        + " either: it is being restarted as after a crash (see messages.log)", true, e);
            }
            watchIfSupervised(server);
        } finally {
            if (liveBefore.isPresent()) {
                Files.deleteIfExists(liveBefore.get());
            }
        }
    }

    /**
     * Starts on {@code chosen} with a password no client has, runs {@code beforeServing} on a client of its own
     * and {@code beforeUnlock}, and only then gives Redis the clients' password: until then they are refused and
     * keep reconnecting.
     */
    private EmbeddedRedisServer startLocked(final StoredGeneration chosen, final EmbeddedRedisServer old,
                                            final Optional<Persistence.BeforeServing> beforeServing,
                                            final BeforeUnlock beforeUnlock) throws IOException {
        Secret locked = EmbeddedRedisServer.newPassword();
        EmbeddedRedisServer restored = sources.orElseThrow().startOn(chosen, (data, appendOnly) ->
                EmbeddedRedisServer.startAgain(old, standalone, pump, data, appendOnly, locked));
        try {
            if (beforeServing.isPresent()) {
                prepare(restored, beforeServing.get());
            }
        } catch (Exception e) {
            restored.close(); // free the port for the data that was live before
            throw e instanceof IOException io ? io : new IOException("preparing the restored data failed: "
                    + e.getMessage(), e);
        }
        beforeUnlock.run(restored);
        try (ControlConnection redis = ControlConnection.open(restored.host(), restored.port(), locked)) {
            redis.sync(RedisCommands.CONFIG_SET, "requirepass", old.password().reveal());
        } catch (RuntimeException e) {
            restored.close();
            throw new IOException("letting the clients in to the restored data failed: " + e.getMessage(), e);
        }
        return restored.withPassword(old.password());
    }

    private static void prepare(final EmbeddedRedisServer restored, final Persistence.BeforeServing beforeServing)
            throws Exception {
        Config config = new Config().setThreads(1).setNettyThreads(2);
        config.useSingleServer().setAddress("redis://" + restored.host() + ":" + restored.port())
                .setPassword(restored.password().reveal()).setConnectionMinimumIdleSize(1).setConnectionPoolSize(4)
                .setSubscriptionConnectionMinimumIdleSize(0).setSubscriptionConnectionPoolSize(1);
        RedissonClient client = Redisson.create(config);
        try {
            beforeServing.prepare(client);
        } finally {
            client.shutdown();
        }
    }

    /**
     * After a failed restore: starts on the data that was live before and says true; when that fails too,
     * queues a restart as after a crash and says false.
     */
    private boolean comeBack(final EmbeddedRedisServer old, final Optional<Path> liveBefore) {
        StartSources start = sources.orElseThrow();
        try {
            server = liveBefore.isPresent()
                    ? start.startOnLiveData(liveBefore.get(), launcher(Optional.of(old)))
                    : start.start(launcher(Optional.of(old)), Optional.empty(), ignored -> { });
            giveUsersTo(server);
            watchIfSupervised(server);
            return true;
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.SEVERE, "The server could not start again on the data that was live before the restore: "
                    + e.getMessage() + "; restarting it as after a crash", e);
            thread.execute(() -> restart(old));
            return false;
        }
    }

    /** Starts a server: the first (on a free port) or in place of {@code previous} (its port and password). */
    private StartSources.Launcher launcher(final Optional<EmbeddedRedisServer> previous) {
        return (data, appendOnly) -> previous.isPresent()
                ? EmbeddedRedisServer.startAgain(previous.get(), standalone, pump, data, appendOnly)
                : EmbeddedRedisServer.start(standalone, pump, data, appendOnly);
    }

    private void watchIfSupervised(final EmbeddedRedisServer started) {
        if (supervised) {
            watch(started);
        }
    }

    private void watch(final EmbeddedRedisServer watched) {
        // Completes on the JDK's process reaper thread: hand the work over at once.
        watched.onExit().thenRun(() -> {
            if (closing || stoppedOnPurpose.contains(watched.pid())) {
                return; // stopping, or a restore replaced it
            }
            LOG.warning("The embedded redis-server (pid " + watched.pid() + ") exited unexpectedly; starting it again"
                    + " on " + watched.host() + ":" + watched.port() + (sources.isEmpty()
                            ? " empty (persistence is off)"
                            : standalone.persistence().appendOnly()
                                    ? " from its append-only file"
                                    : " from the newest snapshot (writes since that snapshot are lost)"));
            try {
                thread.execute(() -> restart(watched));
            } catch (RejectedExecutionException e) {
                LOG.fine("not restarting: the cache is stopping");
            }
        });
    }

    /** On the owner's thread: restarts the dead server on its address, a few times with a growing pause. */
    private void restart(final EmbeddedRedisServer dead) {
        long begin = System.nanoTime();
        for (int attempt = 1; attempt <= RESTART_ATTEMPTS && !closing; attempt++) {
            try {
                EmbeddedRedisServer started = sources.isPresent()
                        ? sources.get().start(launcher(Optional.of(dead)), Optional.empty(), ignored -> { })
                        : EmbeddedRedisServer.startAgain(dead, standalone, pump, Optional.empty());
                server = started;
                if (closing) {
                    started.close();
                    return;
                }
                giveUsersTo(started);
                long count = restarts.incrementAndGet();
                watch(started);
                LOG.info("The embedded redis-server runs again: pid " + started.pid() + " on " + started.host() + ":"
                        + started.port() + ", restart " + count + " since start, "
                        + (System.nanoTime() - begin) / 1_000_000 + " ms after the exit was noticed");
                return;
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.WARNING, "Restarting the embedded redis-server failed (attempt " + attempt + " of "
                        + RESTART_ATTEMPTS + "): " + e.getMessage(), e);
                if (e instanceof PersistenceException) {
                    break; // no data source loads: starting empty would pass lost data for an empty cache
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
                Thread.sleep(50); // a back-off between restart attempts, not a readiness wait
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** From now on a server that dies stays dead: the cache is stopping. Work already queued still runs. */
    public void stopSupervising() {
        closing = true;
    }

    /**
     * Waits for the work in progress (never interrupting it: JE I/O), then stops the server. Idempotent.
     */
    @Override
    public void close() {
        closing = true;
        thread.shutdown();
        try {
            if (!thread.awaitTermination(STOP_WAIT_MINUTES, TimeUnit.MINUTES)) {
                LOG.severe("Work on the embedded server is still running after " + STOP_WAIT_MINUTES
                        + " minutes; stopping anyway");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        EmbeddedRedisServer last = server;
        if (last != null) {
            last.close();
        }
    }
}
