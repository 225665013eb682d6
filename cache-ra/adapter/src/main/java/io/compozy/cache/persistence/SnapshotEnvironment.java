package io.compozy.cache.persistence;

import com.sleepycat.je.CacheMode;
import com.sleepycat.je.CheckpointConfig;
import com.sleepycat.je.Database;
import com.sleepycat.je.DatabaseConfig;
import com.sleepycat.je.DatabaseException;
import com.sleepycat.je.DiskLimitException;
import com.sleepycat.je.Durability;
import com.sleepycat.je.Environment;
import com.sleepycat.je.EnvironmentConfig;
import com.sleepycat.je.EnvironmentLockedException;
import com.sleepycat.je.TransactionConfig;
import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.embedded.PrivateDirectory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * The Berkeley DB JE environment in {@code data_dir} with its two databases, and this server's hold on the
 * directory: one open store per directory in this JVM, JE's lock file {@code je.lck} against other servers.
 *
 * <p>JE handles are thread-safe; swapping them is not: every use of them holds {@link #readLock()}, and
 * opening, reopening or closing them holds {@link #writeLock()}.
 */
final class SnapshotEnvironment {

    /** JE refuses writes below this much free disk (its default, 5 GB, would stop small machines). */
    static final long FREE_DISK_FLOOR = 64L << 20;

    // The store's logger, as before the split: logging configurations name SnapshotStore.
    private static final Logger LOG = Logger.getLogger(SnapshotStore.class.getName());
    private static final long CACHE_BYTES = 16L << 20;
    /** Data directories open in this JVM: JE shares one environment between handles of one process. */
    private static final Set<Path> OPEN = ConcurrentHashMap.newKeySet();
    /** How long to wait for an earlier instance of the adapter in this JVM to release the store. */
    private static final Duration PREVIOUS_INSTANCE_WAIT = Duration.ofSeconds(60);

    private final Path dataDir;
    /** Read: using env/generations/chunks. Write: replacing or closing them. */
    private final ReentrantReadWriteLock handles = new ReentrantReadWriteLock();
    private volatile Environment env;
    private volatile Database generations;
    private volatile Database chunks;
    private volatile boolean closed;

    SnapshotEnvironment(final Path dataDir) {
        this.dataDir = dataDir;
    }

    /** Creates {@code data_dir} private when missing and returns its real path. */
    static Path directory(final Path dataDir) {
        try {
            return PrivateDirectory.ensure(dataDir).toRealPath();
        } catch (IOException e) {
            throw new PersistenceException("Cannot use " + PersistenceSettings.DATA_DIR + "=" + dataDir + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Claims {@code dir} for this JVM and returns what {@code open} opens in it, retrying while an earlier
     * adapter instance in this server still holds the directory; {@code open} closes what it opened before
     * it throws. The claim ends with {@link #close()}.
     *
     * @throws PersistenceException when another server uses the directory, or as {@code open} fails
     */
    static <T> T claim(final Path dir, final Supplier<T> open) {
        if (!OPEN.add(dir)) {
            throw inUse(dir, null);
        }
        long deadline = System.nanoTime() + PREVIOUS_INSTANCE_WAIT.toNanos();
        boolean seenReleased = false;
        while (true) {
            // Liberty starts a replaced RAR while the previous instance still stops (final snapshot, close).
            // Wait for it without trying: every failed open leaks a thread (JE starts its environment's
            // java.util.Timer before it finds je.lck taken, and never cancels it).
            while (heldByThisProcess(dir) && System.nanoTime() < deadline && pause()) {
                LOG.fine(() -> "waiting for the previous adapter instance in this server to release " + dir);
            }
            try {
                return open.get();
            } catch (RuntimeException e) {
                // While this JVM holds the lock, and once more after seeing it released: the old instance may
                // have closed the store between our attempt and the check.
                boolean held = heldByThisProcess(dir);
                boolean retry = e.getCause() instanceof EnvironmentLockedException && (held || !seenReleased);
                if (!retry || System.nanoTime() > deadline || !pause()) {
                    OPEN.remove(dir);
                    throw e;
                }
                seenReleased = !held;
            }
        }
    }

    /** Whether this JVM has the directory's je.lck open: an earlier adapter instance (replaced RAR) still closing. */
    static boolean heldByThisProcess(final Path dir) {
        Path lock = dir.resolve("je.lck");
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.anyMatch(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(lock);
                } catch (IOException e) {
                    return false; // closed meanwhile
                }
            });
        } catch (IOException | UncheckedIOException e) {
            return false; // no /proc: cannot tell, fail as for another server
        }
    }

    private static boolean pause() {
        try {
            Thread.sleep(200);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Opens JE and the two databases, runs {@code recovery} on them, then makes every file private. A
     * {@link DatabaseException} from {@code recovery} fails the open as one from JE does.
     */
    void open(final Runnable recovery) {
        EnvironmentConfig config = new EnvironmentConfig().setAllowCreate(true).setTransactional(true);
        config.setDurability(Durability.COMMIT_SYNC);
        config.setCacheSize(CACHE_BYTES);
        config.setConfigParam(EnvironmentConfig.FREE_DISK, Long.toString(FREE_DISK_FLOOR))
                // The stats thread needs --add-exports java.management/sun.management on Java 17 and only
                // logs an error without it; the adapter does not use JE statistics.
                .setConfigParam(EnvironmentConfig.STATS_COLLECT, "false")
                .setConfigParam(EnvironmentConfig.FILE_LOGGING_LEVEL, "WARNING")
                // JE's recovery otherwise treats a checksum error as the end of the log and silently drops
                // every later commit: the store would look empty and the server start with nothing.
                .setConfigParam(EnvironmentConfig.HALT_ON_COMMIT_AFTER_CHECKSUMEXCEPTION, "true");
        try {
            env = new Environment(dataDir.toFile(), config);
            DatabaseConfig dbConfig = new DatabaseConfig().setAllowCreate(true).setTransactional(true);
            generations = env.openDatabase(null, "generations", dbConfig);
            // A chunk is written once and read once: keep it out of the small JE cache.
            chunks = env.openDatabase(null, "chunks", dbConfig.clone().setCacheMode(CacheMode.EVICT_LN));
            recovery.run();
        } catch (EnvironmentLockedException e) {
            throw inUse(dataDir, e);
        } catch (DatabaseException e) {
            throw new PersistenceException("The snapshot store in " + dataDir + " (" + PersistenceSettings.DATA_DIR
                    + ") cannot be opened: " + e.getMessage() + ". Its files may be damaged: move the directory"
                    + " aside and restore a backup, or start empty (see docs/persistence.md)", e);
        }
        restrictFiles();
    }

    Path dataDir() {
        return dataDir;
    }

    Lock readLock() {
        return handles.readLock();
    }

    Lock writeLock() {
        return handles.writeLock();
    }

    Environment env() {
        return env;
    }

    Database generations() {
        return generations;
    }

    Database chunks() {
        return chunks;
    }

    /** Whether the databases are gone: closed for good, or not open. */
    boolean isClosed() {
        return closed || generations == null;
    }

    void requireOpen() {
        if (closed || env == null) {
            throw new PersistenceException("The snapshot store in " + dataDir + " is closed (the cache is stopping)");
        }
    }

    /** Whether JE invalidated the environment (or an earlier reopen failed) and it is not closed for good. */
    boolean needsReopen() {
        Environment current = env;
        return !(closed || current != null && current.isValid());
    }

    /** Whether the environment still works (JE invalidates it after some failures, e.g. a bad checksum). */
    boolean isUsable() {
        Environment current = env;
        return current != null && current.isValid();
    }

    /** Cleans the log files the deleted generations leave mostly empty and removes them at a checkpoint. */
    void reclaimSpace() {
        try {
            env.cleanLog();
            env.checkpoint(new CheckpointConfig().setForce(true));
        } catch (DatabaseException e) {
            LOG.log(Level.WARNING, "Could not reclaim the space of deleted snapshot generations in " + dataDir, e);
        }
    }

    /** JE creates files with the process umask; the data is as sensitive as the cache itself. */
    void restrictFiles() {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dataDir)) {
            for (Path file : files) {
                if (Files.isRegularFile(file)) {
                    PrivateDirectory.restrictFile(file);
                }
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "Could not restrict the permissions of the files in " + dataDir, e);
        }
    }

    /** A JE failure in plain words (JE's own message is a page of internals). */
    String plainCause(final Throwable e) {
        if (e instanceof DiskLimitException) {
            return "not enough free disk: " + dataDir.toFile().getUsableSpace() / (1024 * 1024) + " MiB free, and the"
                    + " store keeps at least " + FREE_DISK_FLOOR / (1024 * 1024) + " MiB free";
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root instanceof IOException ? "I/O error: " + root.getMessage()
                : e.getClass().getSimpleName() + ": " + firstLine(e.getMessage());
    }

    private static String firstLine(final String message) {
        String text = String.valueOf(message);
        int end = text.indexOf('\n');
        return end < 0 ? text : text.substring(0, end);
    }

    /** Closes the handles for good and releases the directory's claim. */
    void close() {
        handles.writeLock().lock();
        try {
            closed = true;
            closeQuietly();
        } finally {
            handles.writeLock().unlock();
            OPEN.remove(dataDir);
        }
    }

    /** Closes the handles, to open them again or after a failed open; failures are logged. */
    void closeQuietly() {
        List<AutoCloseable> handles = new ArrayList<>();
        if (chunks != null) {
            handles.add(chunks::close);
        }
        if (generations != null) {
            handles.add(generations::close);
        }
        if (env != null) {
            handles.add(env::close);
            // JE closes its log handler (je.info.0) at the end of a close that completes; after a write that met a
            // full disk a CI run found it still open once the store had closed (lsof), pinning data_dir's file
            // system. Closing the handlers again is harmless when JE did.
            try {
                handles.add(com.sleepycat.je.DbInternal.getNonNullEnvImpl(env)::closeHandlers);
            } catch (RuntimeException e) {
                LOG.fine(() -> "no environment left to close the log handlers of: " + e);
            }
        }
        boolean failed = env != null && !env.isValid();
        for (AutoCloseable handle : handles) {
            try {
                handle.close();
            } catch (Exception e) {
                // Closing an environment JE already invalidated rethrows the cause, already reported.
                LOG.log(failed ? Level.FINE : Level.WARNING, "Closing the snapshot store in " + dataDir, e);
            }
        }
        chunks = null;
        generations = null;
        env = null;
    }

    private static PersistenceException inUse(final Path dir, final Throwable cause) {
        return new PersistenceException("The snapshot store in " + dir + " (" + PersistenceSettings.DATA_DIR
                + ") is in use by another server (its lock file je.lck is held). Two servers must never share a"
                + " data directory: stop the other one, or give this server its own "
                + PersistenceSettings.DATA_DIR + ".", cause);
    }

    /** For chunks and deletions, which need no fsync of their own (see {@link SnapshotStore}). */
    static TransactionConfig noSync() {
        return new TransactionConfig().setDurability(Durability.COMMIT_WRITE_NO_SYNC);
    }
}
