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
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Standalone persistence: the {@link SnapshotStore} of generations, the point-in-time snapshots taken into it,
 * uploads and downloads of RDB files, and the status. Where a start takes its data from is
 * {@link StartSources}; the running server belongs to its {@link EmbeddedServerOwner}.
 *
 * <p>A snapshot is Redis's own {@code BGSAVE}: the server forks, the child writes the keyspace as it was
 * at the fork (every type, every TTL as an absolute time, MULTI/EXEC and scripts never torn) while the
 * parent keeps serving. The RDB file, in the server's private run directory, is then streamed into the
 * store as one generation and deleted. A restore hands the RDB back to a new redis-server, which loads it
 * natively and drops keys whose TTL passed while it was down.
 *
 * <p>All snapshot work runs on the owner's one thread, never on a caller's: callers only wait, so an
 * interrupted caller (an EJB timer, a request) cannot interrupt JE I/O, and snapshots never overlap each
 * other, a restart or a restore.
 */
public final class SnapshotManager implements Persistence, AutoCloseable {

    private static final Logger LOG = Logger.getLogger(SnapshotManager.class.getName());
    /** Uploads wait in {@code data_dir} under this prefix until they are stored; a crash may leave one. */
    static final String UPLOAD_PREFIX = "upload-";

    private final PersistenceSettings settings;
    private final SnapshotStore store;
    /** Where every start takes its data from; also says where the running data came from. */
    private final StartSources sources;
    /** The running server's owner, from {@link #startServer} on; it runs all snapshot work on its thread. */
    private volatile EmbeddedServerOwner owner;
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final AtomicLong taken = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    private volatile SnapshotInfo last;
    private volatile String lastFailure;
    private volatile Instant failingSince;
    /** Reads the running server's INFO persistence (through the adapter's client, once it exists). */
    private volatile java.util.function.Supplier<Map<String, String>> serverInfo = Map::of;
    private SnapshotManager(final PersistenceSettings settings, final SnapshotStore store) {
        this.settings = settings;
        this.store = store;
        this.sources = new StartSources(settings, store);
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
     * Starts the embedded redis-server on the best data there is ({@link StartSources}: the append-only file,
     * else the newest generation that restores, else empty) and makes {@link #owner()} its owner.
     *
     * @throws PersistenceException when the key does not open the snapshots, or data exists and none of it
     *     can be restored: the server never starts empty while claiming success
     * @throws IOException when redis-server cannot start at all
     */
    public EmbeddedRedisServer startServer(final CacheSettings.Standalone standalone,
                                           final java.util.concurrent.Executor pump) throws IOException {
        return startServer(standalone, pump, Optional.empty());
    }

    /**
     * Starts as {@link #startServer(CacheSettings.Standalone, java.util.concurrent.Executor)} does; when
     * {@code data_dir} holds neither an AOF nor a generation, {@code importSource} fills the new server first
     * and the first snapshot is taken before anything is handed out.
     */
    public EmbeddedRedisServer startServer(final CacheSettings.Standalone standalone,
                                           final java.util.concurrent.Executor pump,
                                           final Optional<StartSources.ImportSource> importSource) throws IOException {
        if (owner != null) {
            throw new IllegalStateException("the embedded server has already started");
        }
        owner = EmbeddedServerOwner.start(standalone, pump, sources, importSource, imported -> {
            SnapshotInfo first = take(imported);
            LOG.info("First snapshot of the imported data: generation " + first.generation());
        });
        return owner.current();
    }

    /** The owner of the running server; present once {@link #startServer} returned. */
    public EmbeddedServerOwner owner() {
        return Objects.requireNonNull(owner, "the embedded server has not started");
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
        try {
            return Optional.of(onOwnerThread(() -> {
                try {
                    return take(owner().current());
                } finally {
                    running.set(false);
                }
            }));
        } catch (IllegalStateException e) {
            running.set(false); // refused before it ran
            throw e;
        }
    }

    /**
     * When the adapter stops: refuses further requests and, if {@code snapshot_on_shutdown}, takes the
     * final snapshot (after any running one) and waits for it. Call before the client and server stop.
     */
    public void snapshotOnShutdown() {
        if (!stopping.compareAndSet(false, true) || !settings.snapshotOnShutdown() || owner == null) {
            return;
        }
        try {
            SnapshotInfo info = onOwnerThread(() -> take(owner.current()));
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
                sources.restored(), taken.get(), failed.get(), skipped.get(), sources.skippedOnRestore(),
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
        return Optional.of(AppendOnlyFile.status(settings, sources.appendOnlyFile().directory(), sources.loadedFrom(),
                sources.truncatedOnLoad(), info));
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

    /** Stores a received and checked upload as a generation, on the owner's thread like a snapshot. */
    private SnapshotInfo store(final Path upload, final RdbFile.Summary summary, final long start) {
        try {
            return awaitWork(() -> {
                StoredGeneration generation = store.write(upload, Instant.now(), summary.keys(), summary.redisVersion(),
                        start);
                store.verify(generation);
                List<Long> deleted = store.prune(settings.retain());
                LOG.info("Uploaded RDB stored as generation " + generation.generation() + ": " + summary.keys()
                        + " keys, " + summary.bytes() + " bytes, RDB format " + summary.rdbVersion() + " written by Redis "
                        + summary.redisVersion() + (deleted.isEmpty() ? "" : " (deleted generations " + deleted + ")"));
                return generation.toInfo();
            });
        } catch (RuntimeException e) {
            throw failure("The uploaded file is a valid RDB file but was not stored", e, false);
        }
    }

    /**
     * Copies the upload into {@code file}. A failure to read the body is the upload breaking off (an
     * IOException, the caller's 400); a failure to write is this server's disk (an IllegalStateException
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
     * On the owner's thread: proves the generation readable, then has the owner put a server on it in place of
     * the running one ({@link EmbeddedServerOwner#restore}: on failure the data that was live before comes
     * back), and snapshots the restored data before any client is let in, so the newest generation is what was restored.
     */
    @Override
    public SnapshotInfo restore(final long generation) {
        return restore(generation, Optional.empty());
    }

    /** {@link #restore(long)}, with {@code beforeServing} run on the restored data before anyone else sees it. */
    @Override
    public SnapshotInfo restore(final long generation, final BeforeServing beforeServing) {
        return restore(generation, Optional.of(beforeServing));
    }

    private SnapshotInfo restore(final long generation, final Optional<BeforeServing> beforeServing) {
        if (stopping.get()) {
            throw new SnapshotFailedException("The Compozy cache is stopping; nothing was restored", false, null);
        }
        StoredGeneration chosen = find(generation);
        return awaitWork(() -> {
            try {
                store.verify(chosen); // a corrupt generation or a wrong key fails here, before anything stops
            } catch (IOException | RuntimeException e) {
                throw failure("Generation " + generation + " was not restored", e, false);
            }
            // Taken before the clients are let in, so the newest generation is exactly what was restored.
            AtomicReference<SnapshotInfo> snapshot = new AtomicReference<>();
            AtomicReference<Exception> snapshotFailure = new AtomicReference<>();
            try {
                owner().restore(chosen, beforeServing, restored -> {
                    try {
                        snapshot.set(take(restored));
                    } catch (IOException | RuntimeException e) {
                        snapshotFailure.set(e);
                    }
                });
            } catch (IOException | RuntimeException e) {
                // A SnapshotFailedException says what runs now; anything else failed before the server stopped.
                throw failure("Generation " + generation + " was not restored: the live data could not be saved"
                        + " before the restore", e, false);
            }
            if (snapshotFailure.get() != null) {
                throw failure("Generation " + generation + " is live now (it replaced the data before), but the"
                        + " snapshot of it failed, so it is not yet the newest stored generation; take a snapshot once"
                        + " there is room (with " + PersistenceSettings.AOF + "=off a restart before then comes back"
                        + " to the newest stored generation)", snapshotFailure.get(), true);
            }
            return snapshot.get();
        });
    }

    private StoredGeneration find(final long generation) {
        return store.generations().stream().filter(g -> g.generation() == generation).findFirst()
                .orElseThrow(() -> new NoSuchElementException("Generation " + generation + " is not stored; GET"
                        + " /api/admin/snapshots lists the stored ones"));
    }

    /**
     * Runs work on the owner's thread and waits: its runtime failures as they were thrown (they are written
     * for callers), others as an IllegalStateException with their message. An interrupt stops the waiting only.
     */
    private <T> T awaitWork(final java.util.concurrent.Callable<T> work) {
        try {
            return owner().exclusively(work);
        } catch (IOException e) {
            throw new IllegalStateException(e.getMessage(), e);
        } catch (IllegalStateException e) {
            if (e.getCause() instanceof java.util.concurrent.RejectedExecutionException) {
                throw new SnapshotFailedException("The Compozy cache has stopped", false, e);
            }
            throw e;
        }
    }

    /** As {@link #awaitWork}, for snapshots: every failure says "Snapshot failed". */
    private <T> T onOwnerThread(final java.util.concurrent.Callable<T> work) {
        try {
            return owner().exclusively(work);
        } catch (IOException | RuntimeException e) {
            if (e.getCause() instanceof java.util.concurrent.RejectedExecutionException) {
                throw new SnapshotFailedException("The Compozy cache has stopped", false, e);
            }
            if (e instanceof IllegalStateException interrupted && e.getCause() == null) {
                throw interrupted; // only the waiting ended: not a snapshot failure
            }
            throw failure("Snapshot failed", e, false);
        }
    }

    /** Waits for queued snapshot work, then closes the store. Never interrupts the snapshot thread. */
    @Override
    public void close() {
        stopping.set(true);
        try {
            if (owner != null) {
                owner.close(); // waits for the snapshot work in progress, then stops the server
            }
        } finally {
            store.close();
        }
    }

    private SnapshotInfo take(final EmbeddedRedisServer current) throws IOException {
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
}
