package io.compozy.cache.persistence;

import io.compozy.cache.api.Persistence;
import io.compozy.cache.api.PersistenceStatus;
import io.compozy.cache.api.SnapshotFailedException;
import io.compozy.cache.api.SnapshotInfo;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import io.compozy.cache.embedded.PrivateDirectory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.redisson.client.protocol.RedisCommands;

/**
 * Standalone persistence: restores the newest valid generation when the embedded redis-server starts,
 * and takes point-in-time snapshots of it into the {@link SnapshotStore}.
 *
 * <p>A snapshot is Redis's own {@code BGSAVE}: the server forks, the child writes the keyspace as it was
 * at the fork (every type, every TTL as an absolute time, MULTI/EXEC and scripts never torn) while the
 * parent keeps serving. The RDB file, in the server's private run directory, is then streamed into the
 * store as one generation and deleted. A restore hands the RDB back to a new redis-server, which loads it
 * natively and drops keys whose TTL passed while it was down.
 *
 * <p>All snapshot work runs on one thread this class owns, never on a caller's: callers only wait, so an
 * interrupted caller (an EJB timer, a request) cannot interrupt JE I/O, and snapshots never overlap.
 */
public final class SnapshotManager implements Persistence, AutoCloseable {

    private static final Logger LOG = Logger.getLogger(SnapshotManager.class.getName());
    private static final long STOP_WAIT_MINUTES = 10;
    /** Uploads wait in {@code data_dir} under this prefix until they are stored; a crash may leave one. */
    static final String UPLOAD_PREFIX = "upload-";

    private final PersistenceSettings settings;
    private final SnapshotStore store;
    private final ExecutorService worker;
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final AtomicLong taken = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    private final AtomicLong skippedOnRestore = new AtomicLong();
    private volatile EmbeddedRedisServer server;
    private volatile SnapshotInfo last;
    private volatile String lastFailure;
    private volatile Instant failingSince;
    private volatile SnapshotInfo restored;
    /** Standalone's append-only file; present whatever the setting, to find one an earlier run left. */
    private final AppendOnlyFile appendOnlyFile;
    /** Where the running server's data came from, and why (for the log and the status). */
    private volatile String loadedFrom = "nothing yet";
    private volatile long truncatedOnLoad;
    /** Reads the running server's INFO persistence (through the adapter's client, once it exists). */
    private volatile java.util.function.Supplier<Map<String, String>> serverInfo = Map::of;
    /** What the server is started with, for a restore's restart; set by {@link #startServer}. */
    private volatile CacheSettings.Standalone standalone;
    private volatile java.util.concurrent.Executor pump;
    /** Told about the server a restore started, so the backend watches it and reports its pid. */
    private volatile Consumer<EmbeddedRedisServer> replacedListener = started -> { };
    /** Pids of servers a restore stopped on purpose: their exit is no crash. */
    private final Set<Long> stoppedOnPurpose = ConcurrentHashMap.newKeySet();

    private SnapshotManager(final PersistenceSettings settings, final SnapshotStore store) {
        this.settings = settings;
        this.store = store;
        this.appendOnlyFile = new AppendOnlyFile(settings.dataDir().orElseThrow());
        this.worker = Executors.newSingleThreadExecutor(task -> {
            Thread thread = new Thread(task, "compozy-cache-snapshot");
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * Opens the snapshot store in {@code data_dir}.
     *
     * @throws PersistenceException when another server uses it or it cannot be opened
     */
    public static SnapshotManager open(final PersistenceSettings settings) {
        Objects.requireNonNull(settings, "settings");
        if (!settings.enabled() || settings.dataDir().isEmpty()) {
            throw new IllegalArgumentException("persistence is not enabled");
        }
        SnapshotStore store = SnapshotStore.open(settings.dataDir().get(), settings.keyBytes());
        removeStaleUploads(store.dataDir());
        LOG.info("Snapshot store opened in " + store.dataDir() + ": " + store.generations().size()
                + " generation(s), retain=" + settings.retain() + ", interval=" + settings.snapshotInterval()
                + (store.encrypting() ? ", encrypted (AES-256-GCM)" : ", not encrypted"));
        return new SnapshotManager(settings, store);
    }

    /** An upload that was being received when the server stopped is of no use: it was never stored. */
    private static void removeStaleUploads(final Path dataDir) {
        try (var uploads = Files.newDirectoryStream(dataDir, UPLOAD_PREFIX + "*.rdb")) {
            for (Path upload : uploads) {
                Files.deleteIfExists(upload);
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "Could not remove unfinished uploads in " + dataDir, e);
        }
    }

    /**
     * Starts the embedded redis-server on the newest generation that verifies and that Redis accepts,
     * falling back to older ones (each skip is logged and counted); empty when there is none or
     * {@code restore_on_startup} is false.
     *
     * @throws PersistenceException when the key does not open the snapshots, or generations exist and
     *     none can be restored: the server never starts empty while claiming success
     * @throws IOException when redis-server cannot start at all
     */
    public EmbeddedRedisServer startServer(final CacheSettings.Standalone standalone,
                                           final java.util.concurrent.Executor pump) throws IOException {
        this.standalone = standalone;
        this.pump = pump;
        return restoreInto(data -> EmbeddedRedisServer.start(standalone, pump, data));
    }

    /**
     * After the embedded redis-server died: starts a new one on its address (port and password) from the
     * newest generation that restores, as {@link #startServer} does at start. Runs on the snapshot thread,
     * after any snapshot in progress, so a restart never races a snapshot.
     *
     * @throws PersistenceException as {@link #startServer} does; the server then stays down
     * @throws IOException when redis-server cannot start on that address
     * @throws IllegalStateException when the cache is stopping
     */
    public EmbeddedRedisServer restartServer(final EmbeddedRedisServer dead, final CacheSettings.Standalone standalone,
                                             final java.util.concurrent.Executor pump) throws IOException {
        if (stopping.get()) {
            throw new IllegalStateException("The Compozy cache is stopping");
        }
        Future<EmbeddedRedisServer> restarted;
        try {
            restarted = worker.submit(() -> restoreInto(data -> EmbeddedRedisServer.startAgain(dead, standalone, pump,
                    data)));
        } catch (RejectedExecutionException e) {
            throw new IllegalStateException("The Compozy cache has stopped", e);
        }
        try {
            return restarted.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for the restart", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /** Starts a redis-server: with initial data, or empty. */
    @FunctionalInterface
    private interface Launcher {
        EmbeddedRedisServer launch(Optional<EmbeddedRedisServer.InitialData> initialData) throws IOException;
    }

    /**
     * The start-up source: the append-only file when there is a valid one (the newest data), else the newest
     * generation that restores, after which the AOF (when on) is rebuilt from the data. docs/persistence.md.
     */
    private EmbeddedRedisServer restoreInto(final Launcher launcher) throws IOException {
        Optional<String> why = Optional.empty();
        if (appendOnlyFile.exists()) {
            Optional<EmbeddedRedisServer> logged = startFromAppendOnlyFile(launcher);
            if (logged.isPresent()) {
                server = logged.get();
                return server;
            }
            why = Optional.of(loadedFrom);
        } else if (settings.appendOnly()) {
            why = Optional.of("there is no append-only file in " + appendOnlyFile.directory() + " yet");
        }
        truncatedOnLoad = 0;
        EmbeddedRedisServer started = restoreGeneration(launcher);
        if (why.isPresent()) {
            loadedFrom = loadedFrom + ", because " + why.get();
            LOG.info("Started from " + loadedFrom);
        }
        if (settings.appendOnly()) {
            try {
                // A rewrite writes the data once more, as a snapshot does: a minute, plus a second per 10 MB.
                long bytes = restored == null ? 0 : restored.bytes();
                AppendOnlyFile.switchOn(started, java.time.Duration.ofSeconds(60 + bytes / (10L << 20)));
            } catch (IOException e) {
                started.close();
                server = null;
                throw new PersistenceException("Cannot write the append-only file in " + appendOnlyFile.directory()
                        + " from " + loadedFrom + ": " + e.getMessage() + ". Nothing was deleted; free disk space or"
                        + " set " + PersistenceSettings.AOF + "=off", e);
            }
            LOG.info("Append-only file (" + PersistenceSettings.AOF + "=" + settings.aof().value() + ") written in "
                    + appendOnlyFile.directory() + " from " + loadedFrom + "; from now on every write is logged");
        }
        return started;
    }

    /**
     * Starts on the AOF left by the previous run. Empty when it was moved aside instead: the AOF is off
     * now, restore_on_startup is false, or Redis refused it as damaged ({@link #loadedFrom} says why).
     *
     * @throws PersistenceException when the AOF is damaged and no generation exists to fall back to
     */
    private Optional<EmbeddedRedisServer> startFromAppendOnlyFile(final Launcher launcher) throws IOException {
        Path dir = appendOnlyFile.directory();
        if (!settings.appendOnly() || !settings.restoreOnStartup()) {
            Path aside = appendOnlyFile.setAside(settings.appendOnly() ? "not-restored" : "aof-off");
            loadedFrom = "an append-only file left by an earlier run was moved to " + aside + " ("
                    + (settings.appendOnly() ? PersistenceSettings.RESTORE_ON_STARTUP + "=false"
                            : PersistenceSettings.AOF + "=off") + ")";
            LOG.warning("The append-only file in " + dir + " is not used: " + loadedFrom + ". Each stop takes a final"
                    + " snapshot; only after a crash can it hold newer writes (docs/persistence.md says how to load it)");
            return Optional.empty();
        }
        long before = appendOnlyFile.bytes();
        try {
            EmbeddedRedisServer started = launcher.launch(Optional.empty());
            truncatedOnLoad = Math.max(0, before - appendOnlyFile.bytes());
            loadedFrom = "the append-only file in " + dir;
            LOG.info("Started from the append-only file in " + dir + ": it is the newest data (every write logged up"
                    + " to the last stop or crash), newer than any snapshot generation"
                    + (truncatedOnLoad == 0 ? "" : "; its tail was cut short by a crash: " + truncatedOnLoad
                            + " bytes of a partial command were dropped (aof-load-truncated)"));
            return Optional.of(started);
        } catch (EmbeddedRedisServer.StartTimeoutException e) {
            // Slow is not damaged: an older generation in its place would silently lose the newer writes.
            throw new PersistenceException("The append-only file in " + dir + " (" + before / (1024 * 1024) + " MB)"
                    + " was still loading when the " + e.waited().toMillis() + " ms start wait ran out. It is not"
                    + " damaged, so no snapshot generation is restored in its place. Raise "
                    + CacheSettings.START_TIMEOUT + " and start again; nothing was moved or deleted", e);
        } catch (IOException e) {
            if (!AppendOnlyFile.refusedTheFile(e)) {
                throw e;
            }
            if (store.generations().isEmpty()) {
                throw new PersistenceException("The append-only file in " + dir + " is damaged beyond what Redis"
                        + " repairs at start, and no snapshot generation exists to fall back to. Nothing was started"
                        + " or changed. Repair it with: redis-check-aof --fix " + dir.resolve(AppendOnlyFile.MANIFEST)
                        + " (docs/persistence.md), or move the directory aside to start empty. Redis said: "
                        + e.getMessage(), e);
            }
            skippedOnRestore.incrementAndGet();
            Path aside = appendOnlyFile.setAside("damaged");
            loadedFrom = "the append-only file was damaged beyond what Redis repairs at start and was moved to "
                    + aside;
            LOG.warning("The append-only file in " + dir + " cannot be loaded; moved to " + aside + " (repair it with"
                    + " redis-check-aof --fix to recover writes newer than the newest generation). Falling back to"
                    + " the newest snapshot generation. Redis said: " + e.getMessage());
            return Optional.empty();
        }
    }

    private EmbeddedRedisServer restoreGeneration(final Launcher launcher) throws IOException {
        List<StoredGeneration> candidates = store.generations();
        Optional<Long> lost = store.lostNewest();
        if (lost.isPresent() && settings.restoreOnStartup()) {
            String damage = "the store's files are damaged: generation " + lost.get() + " was committed but"
                    + " can no longer be read";
            if (candidates.isEmpty()) {
                throw new PersistenceException("Cannot restore from " + store.dataDir() + ": " + damage
                        + " and no older generation remains. Nothing was started. Restore a backup, or to start"
                        + " empty set " + PersistenceSettings.RESTORE_ON_STARTUP + "=false or move the directory"
                        + " aside; see docs/persistence.md");
            }
            skippedOnRestore.incrementAndGet();
            LOG.warning("Snapshot store in " + store.dataDir() + ": " + damage + "; falling back to generation "
                    + candidates.get(0).generation());
        }
        if (candidates.isEmpty() || !settings.restoreOnStartup()) {
            LOG.info(candidates.isEmpty()
                    ? "No snapshot to restore in " + store.dataDir() + "; starting empty"
                    : PersistenceSettings.RESTORE_ON_STARTUP + "=false: starting empty; the " + candidates.size()
                            + " generation(s) in " + store.dataDir() + " stay until newer snapshots replace them");
            server = launcher.launch(Optional.empty());
            loadedFrom = "an empty server";
            return server;
        }
        List<String> problems = new ArrayList<>();
        for (StoredGeneration candidate : candidates) {
            long start = System.nanoTime();
            try {
                EmbeddedRedisServer started = launcher.launch(Optional.of(file -> store.read(candidate, file)));
                server = started;
                restored = candidate.toInfo();
                loadedFrom = "snapshot generation " + candidate.generation();
                logRestored(candidate, started, start);
                return started;
            } catch (WrongKeyException e) {
                throw new PersistenceException("Cannot restore the snapshots in " + store.dataDir() + ": "
                        + e.getMessage() + ". Nothing was changed.", e);
            } catch (CorruptGenerationException e) {
                skipped(candidate, e.getMessage(), problems);
            } catch (EmbeddedRedisServer.StartTimeoutException e) {
                // Slow is not corrupt: restoring an older generation instead would silently lose newer data.
                throw new PersistenceException("Generation " + candidate.generation() + " in " + store.dataDir()
                        + " (" + candidate.bytes() / (1024 * 1024) + " MB, " + candidate.keys() + " keys) was still"
                        + " loading when the " + e.waited().toMillis() + " ms start wait ran out. It is not"
                        + " corrupt, so no older generation is restored in its place. Raise "
                        + CacheSettings.START_TIMEOUT + " and start again; nothing was deleted", e);
            } catch (IOException e) {
                skipped(candidate, "redis-server did not start with it: " + e.getMessage(), problems);
            }
            if (!store.isUsable()) {
                problems.add("the store became unusable after a read error");
                break;
            }
        }
        throw new PersistenceException("None of the " + candidates.size() + " snapshot generation(s) in "
                + store.dataDir() + " could be restored (" + String.join("; ", problems) + "). Nothing was deleted."
                + " To start empty, set " + PersistenceSettings.RESTORE_ON_STARTUP + "=false or move the directory"
                + " aside; see docs/persistence.md");
    }

    /** Takes a snapshot on the snapshot thread, or returns empty (counted) when one is already running. */
    @Override
    public Optional<SnapshotInfo> snapshot() {
        if (stopping.get()) {
            throw new SnapshotFailedException("The Compozy cache is stopping; it takes its final snapshot itself",
                    false, null);
        }
        if (!running.compareAndSet(false, true)) {
            long count = skipped.incrementAndGet();
            LOG.info("Snapshot skipped: another one is still running (" + count + " skipped since start)");
            return Optional.empty();
        }
        Future<SnapshotInfo> future;
        try {
            future = worker.submit(() -> {
                try {
                    return take();
                } finally {
                    running.set(false);
                }
            });
        } catch (RejectedExecutionException e) {
            running.set(false);
            throw new SnapshotFailedException("The Compozy cache has stopped", false, e);
        }
        return Optional.of(await(future));
    }

    /**
     * When the adapter stops: refuses further requests and, if {@code snapshot_on_shutdown}, takes the
     * final snapshot (after any running one) and waits for it. Call before the client and server stop.
     */
    public void snapshotOnShutdown() {
        if (!stopping.compareAndSet(false, true) || !settings.snapshotOnShutdown() || server == null) {
            return;
        }
        try {
            SnapshotInfo info = await(worker.submit(this::take));
            LOG.info("Final snapshot before stop: generation " + info.generation());
        } catch (RuntimeException e) {
            LOG.severe("The final snapshot before stop failed; the newest stored generation is "
                    + store.generations().stream().findFirst().map(g -> Long.toString(g.generation()))
                            .orElse("none") + ": " + e.getMessage());
        }
    }

    @Override
    public List<SnapshotInfo> generations() {
        return store.generations().stream().map(StoredGeneration::toInfo).toList();
    }

    @Override
    public PersistenceStatus status() {
        return new PersistenceStatus(store.dataDir().toString(), settings.snapshotInterval(), settings.retain(),
                store.encrypting(), running.get(), Optional.ofNullable(last), Optional.ofNullable(lastFailure),
                Optional.ofNullable(restored), taken.get(), failed.get(), skipped.get(), skippedOnRestore.get(),
                Optional.ofNullable(failingSince));
    }

    @Override
    public Optional<io.compozy.cache.api.AppendOnlyStatus> appendOnly() {
        if (!settings.appendOnly()) {
            return Optional.empty();
        }
        Map<String, String> info;
        try {
            info = serverInfo.get();
        } catch (RuntimeException e) {
            info = Map.of(); // Redis does not answer: the numbers read unknown
        }
        return Optional.of(AppendOnlyFile.status(settings, appendOnlyFile.directory(), loadedFrom, truncatedOnLoad,
                info));
    }

    /** How {@link #appendOnly()} reads the running server's INFO persistence: through the adapter's client. */
    public void readInfoWith(final java.util.function.Supplier<Map<String, String>> info) {
        serverInfo = Objects.requireNonNull(info, "info");
    }

    @Override
    public SnapshotInfo generation(final long generation) {
        StoredGeneration stored = find(generation);
        if (stored.encrypted() && !store.opens(stored)) {
            throw new SnapshotFailedException(new WrongKeyException(generation, store.encrypting()).getMessage(), false,
                    null);
        }
        return stored.toInfo();
    }

    @Override
    public void writeRdb(final long generation, final OutputStream out) throws IOException {
        store.stream(find(generation), out);
    }

    /**
     * Receives the upload into a private file in {@code data_dir}, reads all of it with redis-replicator
     * ({@link RdbFile}) and only then stores it as a generation, on the snapshot thread like a snapshot.
     */
    @Override
    public SnapshotInfo storeRdb(final InputStream rdb) throws IOException {
        if (stopping.get()) {
            throw new SnapshotFailedException("The Compozy cache is stopping; the upload was not stored", false, null);
        }
        long start = System.nanoTime();
        Path upload;
        try {
            upload = Files.createTempFile(store.dataDir(), UPLOAD_PREFIX, ".rdb",
                    PosixFilePermissions.asFileAttribute(PrivateDirectory.FILE));
        } catch (IOException e) {
            throw cannotWrite(e);
        }
        try {
            receive(rdb, upload);
            RdbFile.Summary summary;
            try {
                summary = RdbFile.inspect(upload);
            } catch (IOException e) {
                throw failure("The upload was received but could not be read back from its file in "
                        + store.dataDir() + "; nothing was stored", e, false);
            }
            return store(upload, summary, start);
        } finally {
            Files.deleteIfExists(upload);
        }
    }

    /** Stores a received and checked upload as a generation, on the snapshot thread like a snapshot. */
    private SnapshotInfo store(final Path upload, final RdbFile.Summary summary, final long start) {
        try {
            return awaitWork(submit(() -> {
                StoredGeneration generation = store.write(upload, Instant.now(), summary.keys(), summary.redisVersion(),
                        start);
                store.verify(generation);
                List<Long> deleted = store.prune(settings.retain());
                LOG.info("Uploaded RDB stored as generation " + generation.generation() + ": " + summary.keys()
                        + " keys, " + summary.bytes() + " bytes, RDB format " + summary.rdbVersion() + " written by Redis "
                        + summary.redisVersion() + (deleted.isEmpty() ? "" : " (deleted generations " + deleted + ")"));
                return generation.toInfo();
            }));
        } catch (RuntimeException e) {
            throw failure("The uploaded file is a valid RDB file but was not stored", e, false);
        }
    }

    /**
     * Copies the upload into {@code file}. A failure to read the body is the upload breaking off (an
     * IOException, the caller's 400); a failure to write is this server's disk (a SnapshotFailedException
     * naming {@code data_dir}, the caller's 500): the sender must not be told its file was at fault.
     */
    private void receive(final InputStream body, final Path file) throws IOException {
        byte[] buffer = new byte[1 << 16];
        OutputStream out = Files.newOutputStream(file, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING);
        try {
            for (int n = body.read(buffer); n >= 0; n = body.read(buffer)) {
                try {
                    out.write(buffer, 0, n);
                } catch (IOException e) {
                    throw cannotWrite(e);
                }
            }
        } finally {
            try {
                out.close();
            } catch (IOException e) {
                throw cannotWrite(e);
            }
        }
    }

    private SnapshotFailedException cannotWrite(final IOException e) {
        return new SnapshotFailedException("Cannot write the upload into " + store.dataDir() + " ("
                + PersistenceSettings.DATA_DIR + "): " + e.getMessage() + ". Nothing was stored and the live data"
                + " did not change; free disk space there and send it again", false, e);
    }

    /**
     * A failure of this server's persistence as the caller gets it: what was not done, the cause (which names
     * {@code data_dir} when the disk is at fault; if it does not, the directory is added), and whether the
     * live data changed. Causes that already are one pass through.
     */
    private SnapshotFailedException failure(final String what, final Throwable cause, final boolean liveDataChanged) {
        if (cause instanceof SnapshotFailedException already) {
            return already;
        }
        String why = String.valueOf(cause.getMessage());
        String where = why.contains(PersistenceSettings.DATA_DIR) ? ""
                : " [" + PersistenceSettings.DATA_DIR + "=" + store.dataDir() + "]";
        return new SnapshotFailedException(what + ": " + why + where + (liveDataChanged ? ""
                : ". The live data did not change"), liveDataChanged, cause);
    }

    /**
     * On the snapshot thread: proves the generation readable, stops the server, starts it again on that
     * generation (same port, same password), then snapshots the restored data so it is the newest generation.
     * When Redis refuses the generation, the server starts again on the newest one that restores.
     */
    @Override
    public SnapshotInfo restore(final long generation) {
        if (stopping.get()) {
            throw new SnapshotFailedException("The Compozy cache is stopping; nothing was restored", false, null);
        }
        StoredGeneration chosen = find(generation);
        return awaitWork(submit(() -> {
            try {
                store.verify(chosen); // a corrupt generation or a wrong key fails here, before anything stops
            } catch (IOException | RuntimeException e) {
                throw failure("Generation " + generation + " was not restored", e, false);
            }
            EmbeddedRedisServer old = Objects.requireNonNull(server, "the embedded server has not started");
            long start = System.nanoTime();
            stoppedOnPurpose.add(old.pid());
            old.close();
            if (settings.appendOnly() && appendOnlyFile.exists()) {
                // Redis loads an AOF before any RDB: left in place, the replaced data would come back at the
                // next start. Kept aside (not deleted) like a damaged one.
                Path aside = appendOnlyFile.setAside("replaced-by-restore");
                LOG.info("Restoring generation " + generation + ": the append-only file of the replaced data was"
                        + " moved to " + aside);
            }
            try {
                server = EmbeddedRedisServer.startAgain(old, standalone, pump,
                        Optional.of(file -> store.read(chosen, file)));
                if (settings.appendOnly()) {
                    try {
                        AppendOnlyFile.switchOn(server, java.time.Duration.ofSeconds(60 + chosen.bytes() / (10L << 20)));
                    } catch (IOException e) {
                        server.close(); // free the port for the fallback start below
                        throw e;
                    }
                    loadedFrom = "snapshot generation " + generation + " (restored on request)";
                }
            } catch (IOException | RuntimeException e) {
                LOG.warning("Generation " + generation + " could not be restored (" + e.getMessage() + "); starting"
                        + " the server again on the newest generation that restores");
                try {
                    restoreInto(data -> EmbeddedRedisServer.startAgain(old, standalone, pump, data));
                } catch (IOException | RuntimeException fallback) {
                    throw failure("Generation " + generation + " could not be restored (" + e.getMessage() + "), and"
                            + " the embedded server did not start again on an earlier generation either; it is not"
                            + " running", fallback, true);
                }
                replacedListener.accept(server);
                throw failure("Generation " + generation + " could not be restored; the server runs again on "
                        + loadedFrom + " (the live data before the restore was replaced)", e, true);
            }
            restored = chosen.toInfo();
            replacedListener.accept(server);
            logRestored(chosen, server, start);
            try {
                return take();
            } catch (IOException | RuntimeException e) {
                throw failure("Generation " + generation + " is live now (it replaced the data before), but the"
                        + " snapshot of it failed, so it is not yet the newest stored generation; take a snapshot once"
                        + " there is room (with " + PersistenceSettings.AOF + "=off a restart before then comes back"
                        + " to the newest stored generation)", e, true);
            }
        }));
    }

    /**
     * Tells {@code listener} about each server a {@link #restore} starts (on the snapshot thread), so the
     * backend can watch it and report its pid.
     */
    public void onServerReplaced(final Consumer<EmbeddedRedisServer> listener) {
        this.replacedListener = Objects.requireNonNull(listener, "listener");
    }

    /** Whether a restore stopped this server on purpose (its exit is no crash to recover from). */
    public boolean stoppedOnPurpose(final EmbeddedRedisServer server) {
        return stoppedOnPurpose.contains(server.pid());
    }

    private StoredGeneration find(final long generation) {
        return store.generations().stream().filter(g -> g.generation() == generation).findFirst()
                .orElseThrow(() -> new NoSuchElementException("Generation " + generation + " is not stored; GET"
                        + " /api/admin/snapshots lists the stored ones"));
    }

    /**
     * Waits for work on the snapshot thread: its runtime failures as they were thrown (they are written for
     * callers), others as an IllegalStateException with their message. An interrupt stops the waiting only.
     */
    private static <T> T awaitWork(final Future<T> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting; the work continues in the background");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        }
    }

    private <T> Future<T> submit(final java.util.concurrent.Callable<T> work) {
        try {
            return worker.submit(work);
        } catch (RejectedExecutionException e) {
            throw new SnapshotFailedException("The Compozy cache has stopped", false, e);
        }
    }

    /** Waits for queued snapshot work, then closes the store. Never interrupts the snapshot thread. */
    @Override
    public void close() {
        stopping.set(true);
        worker.shutdown();
        try {
            if (!worker.awaitTermination(STOP_WAIT_MINUTES, TimeUnit.MINUTES)) {
                LOG.severe("A snapshot is still running after " + STOP_WAIT_MINUTES + " minutes; closing the store"
                        + " anyway (the generation being written will not be committed)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        store.close();
    }

    private SnapshotInfo take() throws IOException {
        EmbeddedRedisServer current = Objects.requireNonNull(server, "the embedded server has not started");
        long start = System.nanoTime();
        Path rdb = current.rdbFile();
        try {
            BgsaveCapture.Capture capture = BgsaveCapture.run(current);
            StoredGeneration generation = store.write(rdb, capture.takenAt(), capture.keys(), capture.redisVersion(), start);
            store.verify(generation); // proven readable before any older generation is deleted
            List<Long> deleted = store.prune(settings.retain());
            SnapshotInfo info = generation.toInfo();
            last = info;
            lastFailure = null;
            failingSince = null;
            taken.incrementAndGet();
            LOG.info("Snapshot taken: generation " + info.generation() + ", " + info.keys() + " keys, "
                    + info.bytes() + " bytes in " + info.durationMillis() + " ms"
                    + (deleted.isEmpty() ? "" : " (deleted generations " + deleted + ")"));
            if (info.durationMillis() > settings.slowSnapshotThreshold().toMillis()) {
                LOG.warning("Snapshot slow: generation " + info.generation() + " took " + info.durationMillis()
                        + " ms (over " + PersistenceSettings.SLOW_SNAPSHOT_THRESHOLD + "="
                        + settings.slowSnapshotThreshold().toMillis() + " ms), " + info.bytes() / (1024 * 1024)
                        + " MB, " + info.keys() + " keys");
            }
            return info;
        } catch (IOException | RuntimeException e) {
            failed.incrementAndGet();
            lastFailure = e.getMessage();
            if (failingSince == null) {
                failingSince = Instant.now();
            }
            if (e instanceof PersistenceException) {
                // A disk that is full or failing: the message says where and what; the trace adds nothing.
                LOG.warning("Snapshot failed: " + e.getMessage());
                LOG.log(Level.FINE, "Snapshot failure details", e);
            } else {
                LOG.log(Level.WARNING, "Snapshot failed: " + e.getMessage(), e);
            }
            throw e;
        } finally {
            Files.deleteIfExists(rdb);
        }
    }

    private void skipped(final StoredGeneration candidate, final String why, final List<String> problems) {
        skippedOnRestore.incrementAndGet();
        problems.add("generation " + candidate.generation() + ": " + why);
        LOG.warning("Snapshot generation " + candidate.generation() + " in " + store.dataDir()
                + " cannot be restored, falling back to an older one: " + why);
    }

    private static void logRestored(final StoredGeneration generation, final EmbeddedRedisServer server,
                                    final long startNanos) {
        String loaded = "?";
        String expired = "?";
        try (ControlConnection redis = ControlConnection.open(server.host(), server.port(), server.password())) {
            Map<String, String> info = redis.sync(RedisCommands.INFO_PERSISTENCE);
            loaded = info.getOrDefault("rdb_last_load_keys_loaded", "?");
            expired = info.getOrDefault("rdb_last_load_keys_expired", "?");
        } catch (IOException e) {
            LOG.log(Level.FINE, "reading the load statistics", e);
        }
        LOG.info("Restored generation " + generation.generation() + " (taken at " + generation.takenAt() + ", "
                + generation.keys() + " keys, " + generation.bytes() + " bytes): " + loaded + " keys loaded, "
                + expired + " expired while down, in " + (System.nanoTime() - startNanos) / 1_000_000 + " ms");
    }

    /** Waits for the snapshot thread; an interrupt stops the waiting, never the work. */
    private <T> T await(final Future<T> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting; the snapshot work continues in the background");
        } catch (ExecutionException e) {
            throw failure("Snapshot failed", e.getCause(), false);
        }
    }
}
