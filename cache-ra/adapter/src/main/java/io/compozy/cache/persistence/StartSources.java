package io.compozy.cache.persistence;

import io.compozy.cache.api.SnapshotInfo;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.redisson.client.protocol.RedisCommands;

/**
 * How a start chooses its data (docs/persistence.md, "How a start chooses its data"). Every start of the
 * embedded redis-server goes through here, whatever asked for it: the first start, a restart after a crash,
 * a restore on request and its fallback, the import. The sources, in order:
 * <ol>
 *   <li>the append-only file, when there is one (the newest data);</li>
 *   <li>the newest snapshot generation that restores, falling back to older ones;</li>
 *   <li>the import source ({@code redis.standalone.import.from}), when the data directory holds neither:
 *       copied with the append-only file off, so a failed import leaves nothing behind and the next start
 *       imports again; the first snapshot is taken before the file is switched on;</li>
 *   <li>an empty server.</li>
 * </ol>
 * Each source either hands back a running server or a reason; the caller owns the server it gets
 * ({@link EmbeddedServerOwner}). Also remembers where the running data came from, for the status.
 */
public final class StartSources {

    // The manager's logger, as before the split: logging configurations name SnapshotManager.
    private static final Logger LOG = Logger.getLogger(SnapshotManager.class.getName());

    /** Starts a redis-server on the owner's address: with initial data or none, the AOF on at start or off. */
    @FunctionalInterface
    interface Launcher {
        EmbeddedRedisServer launch(Optional<EmbeddedRedisServer.InitialData> initialData, boolean appendOnly)
                throws IOException;
    }

    /** The import source: fills a server that started empty, then takes its first snapshot. */
    public interface ImportSource {
        /** Copies the source's data into {@code server}; an ImportFailure (or any exception) abandons it. */
        void copyInto(EmbeddedRedisServer server) throws IOException;

        /** What {@link #copyInto} reads from, for the log and the status. */
        String describe();
    }

    /** Takes the first snapshot of an imported server, so the next start restores it instead. */
    @FunctionalInterface
    interface FirstSnapshot {
        void take(EmbeddedRedisServer server) throws IOException;
    }

    private final PersistenceSettings settings;
    private final SnapshotStore store;
    private final AppendOnlyFile appendOnlyFile;
    private final AtomicLong skippedOnRestore = new AtomicLong();
    /** Where the running server's data came from, and why (for the log and the status). */
    private volatile String loadedFrom = "nothing yet";
    private volatile long truncatedOnLoad;
    private volatile SnapshotInfo restored;

    StartSources(final PersistenceSettings settings, final SnapshotStore store) {
        this.settings = settings;
        this.store = store;
        this.appendOnlyFile = new AppendOnlyFile(settings.dataDir().orElseThrow());
    }

    /**
     * Starts on the best data available, in the order above.
     *
     * @throws PersistenceException when the key does not open the snapshots, or data exists and none of it
     *     can be loaded: the server never starts empty while claiming success
     * @throws IOException when redis-server cannot start at all
     */
    EmbeddedRedisServer start(final Launcher launcher, final Optional<ImportSource> importSource,
                              final FirstSnapshot firstSnapshot) throws IOException {
        Optional<String> why = Optional.empty();
        if (appendOnlyFile.exists()) {
            Optional<EmbeddedRedisServer> logged = startFromAppendOnlyFile(launcher);
            if (logged.isPresent()) {
                return logged.get();
            }
            why = Optional.of(loadedFrom);
        } else if (settings.appendOnly()) {
            why = Optional.of("there is no append-only file in " + appendOnlyFile.directory() + " yet");
        }
        truncatedOnLoad = 0;
        EmbeddedRedisServer started;
        if (importSource.isPresent() && store.generations().isEmpty() && !appendOnlyFile.exists()) {
            started = startFromImport(launcher, importSource.get(), firstSnapshot);
        } else {
            started = restoreGeneration(launcher);
            if (why.isPresent()) {
                loadedFrom = loadedFrom + ", because " + why.get();
                LOG.info("Started from " + loadedFrom);
            }
        }
        switchOnAppendOnly(started, restored == null ? 0 : restored.bytes());
        return started;
    }

    /**
     * The restore endpoint's source: exactly this generation, the AOF left untouched until Redis rewrites it
     * from the restored data (until then a crash brings back what was live before the restore).
     */
    EmbeddedRedisServer startOn(final StoredGeneration chosen, final Launcher launcher) throws IOException {
        long start = System.nanoTime();
        EmbeddedRedisServer started = launcher.launch(Optional.of(file -> store.read(chosen, file)), false);
        try {
            switchOnAppendOnly(started, chosen.bytes());
        } catch (IOException | RuntimeException e) {
            started.close(); // free the port for the start on the data that was live before
            throw e;
        }
        restored = chosen.toInfo();
        loadedFrom = "snapshot generation " + chosen.generation() + " (restored on request)";
        logRestored(chosen, started, start);
        return started;
    }

    /** A restore's way back when AOF is off: the RDB of the data that was live before it. */
    EmbeddedRedisServer startOnLiveData(final Path rdb, final Launcher launcher) throws IOException {
        EmbeddedRedisServer started = launcher.launch(Optional.of(file -> Files.copy(rdb, file,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING)), false);
        loadedFrom = loadedFrom + "; a failed restore started it again on the data that was live before";
        return started;
    }

    private EmbeddedRedisServer startFromImport(final Launcher launcher, final ImportSource source,
                                                final FirstSnapshot firstSnapshot) throws IOException {
        // The AOF stays off until the first snapshot holds the import: a partial copy is then nowhere on disk.
        EmbeddedRedisServer started = launcher.launch(Optional.empty(), false);
        try {
            source.copyInto(started);
            firstSnapshot.take(started);
        } catch (IOException | RuntimeException e) {
            started.close();
            throw e;
        }
        loadedFrom = "an import from " + source.describe();
        return started;
    }

    /** With the AOF on, Redis rewrites it from the data just loaded: from then on it holds every write. */
    private void switchOnAppendOnly(final EmbeddedRedisServer started, final long bytes) throws IOException {
        if (!settings.appendOnly()) {
            return;
        }
        try {
            // A rewrite writes the data once more, as a snapshot does: a minute, plus a second per 10 MB.
            AppendOnlyFile.switchOn(started, Duration.ofSeconds(60 + bytes / (10L << 20)));
        } catch (IOException e) {
            started.close();
            throw new PersistenceException("Cannot write the append-only file in " + appendOnlyFile.directory()
                    + " from " + loadedFrom + ": " + e.getMessage() + ". Nothing was deleted; free disk space or"
                    + " set " + PersistenceSettings.AOF + "=off", e);
        }
        LOG.info("Append-only file (" + PersistenceSettings.AOF + "=" + settings.aof().value() + ") written in "
                + appendOnlyFile.directory() + " from " + loadedFrom + "; from now on every write is logged");
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
            EmbeddedRedisServer started = launcher.launch(Optional.empty(), true);
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
            EmbeddedRedisServer empty = launcher.launch(Optional.empty(), true);
            loadedFrom = "an empty server";
            return empty;
        }
        List<String> problems = new ArrayList<>();
        for (StoredGeneration candidate : candidates) {
            long start = System.nanoTime();
            try {
                EmbeddedRedisServer started = launcher.launch(Optional.of(file -> store.read(candidate, file)), false);
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

    String loadedFrom() {
        return loadedFrom;
    }

    long truncatedOnLoad() {
        return truncatedOnLoad;
    }

    Optional<SnapshotInfo> restored() {
        return Optional.ofNullable(restored);
    }

    long skippedOnRestore() {
        return skippedOnRestore.get();
    }

    AppendOnlyFile appendOnlyFile() {
        return appendOnlyFile;
    }
}
