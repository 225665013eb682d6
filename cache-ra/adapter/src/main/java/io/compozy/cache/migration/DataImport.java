package io.compozy.cache.migration;

import io.compozy.cache.api.SnapshotInfo;
import io.compozy.cache.config.ImportSettings;
import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.config.RedisAddress;
import io.compozy.cache.config.Secret;
import io.compozy.cache.config.TlsSettings;
import io.compozy.cache.persistence.GenerationExport;
import io.compozy.cache.persistence.PersistenceException;
import io.compozy.cache.persistence.RdbFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.api.redisnode.RedisNode;
import org.redisson.api.redisnode.RedisNodes;
import org.redisson.config.Config;
import org.redisson.config.SingleServerConfig;

/**
 * The imports at start, run before the adapter hands out a connection:
 *
 * <ul>
 *   <li>{@link #intoEmptyExternal}: the newest readable generation of a standalone snapshot store into the
 *       external Redis, only when that Redis holds no key, under an {@link ImportMarker} that every later start
 *       reads (a finished import is not redone, an unfinished one is not served);</li>
 *   <li>{@link #intoEmbedded}: a source Redis into the embedded server, through the replication stream
 *       (point-in-time), or SCAN + DUMP + PTTL with a warning where the source refuses replication.</li>
 * </ul>
 * Expiries stay absolute; keys already expired are skipped and counted; the source is only read. A failure
 * names the key that could not be copied and why.
 */
public final class DataImport {

    private static final Logger LOG = Logger.getLogger(DataImport.class.getName());

    private DataImport() {
    }

    /**
     * Copies the store named by {@value ImportSettings#DISTRIBUTED_DATA_DIR} into {@code target} when it is
     * empty; logs why not otherwise. Whether the key is set or not, a Redis whose {@link ImportMarker} says an
     * import is under way or broke off is refused: a partial copy is never served.
     *
     * @param where the target's address, for messages
     * @param targetVersion the target's {@code redis_version}
     * @throws ImportFailure naming the key or the step that failed, or the unfinished import found; the store is
     *     left as it was
     */
    public static void intoEmptyExternal(final ImportSettings settings, final RedissonClient target,
                                         final String where, final String targetVersion) {
        Map<String, String> finished = ImportMarker.requireFinished(target, where, settings.fromDataDir().isPresent());
        if (!finished.isEmpty()) {
            settings.fromDataDir().ifPresent(dataDir -> alreadyImported(dataDir, where, finished));
            return;
        }
        if (settings.fromDataDir().isEmpty()) {
            return;
        }
        Path dataDir = settings.fromDataDir().get();
        String from = dataDir + " (" + ImportSettings.DISTRIBUTED_DATA_DIR + ")";
        int major = major(targetVersion);
        if (major >= 0 && major < 7) {
            // The snapshots hold Redis 7.0 data (RDB format 10): older servers refuse every key of it.
            throw new ImportFailure("Import from " + from + " not started: the Redis at " + where + " is Redis "
                    + targetVersion + ", and the snapshots hold Redis 7.0 data (RDB format " + RdbFile.EMBEDDED_RDB_VERSION
                    + "), which only Redis 7.0 and later read. Nothing was written.", null);
        }
        long existing = target.getKeys().count();
        if (existing > 0) {
            notEmpty(from, where, existing + " key(s)");
            return;
        }
        long start = System.nanoTime();
        try (GenerationExport export = GenerationExport.openOffline(dataDir, settings.fromDataDirKeyBytes())) {
            SnapshotInfo generation = newestReadable(export, dataDir);
            try (ImportMarker.Claim claim = ImportMarker.claim(target, Map.of("source", dataDir.toString(),
                    "generation", Long.toString(generation.generation()), "taken_at", generation.takenAt().toString()))) {
                if (claim.won()) {
                    copyClaimed(export, dataDir, generation, target, claim, from, where, start);
                } else if (claim.nodeHoldsKeys()) {
                    notEmpty(from, where, "keys written since they were counted");
                } else {
                    // Another server claimed it between our look and our claim.
                    Map<String, String> theirs = ImportMarker.requireFinished(target, where, true);
                    if (theirs.isEmpty()) {
                        notEmpty(from, where, "a marker that was deleted while this server looked");
                    } else {
                        alreadyImported(dataDir, where, theirs);
                    }
                }
            }
        } catch (PersistenceException | IOException e) {
            throw new ImportFailure("Import from " + from + " into " + where + " failed: " + words(e.getMessage())
                    + ". Nothing was written; the source is untouched. Fix that and start again.", e);
        }
    }

    /**
     * The claimed part: streams the generation into the target, then marks the import done. On a failure the
     * marker says so, and every later start refuses the partial copy until it is emptied.
     */
    private static void copyClaimed(final GenerationExport export, final Path dataDir, final SnapshotInfo generation,
                                    final RedissonClient target, final ImportMarker.Claim claim, final String from,
                                    final String where, final long start) {
        KeyRestorer restorer = new KeyRestorer(target);
        DumpCapture.Reading reading;
        try {
            reading = DumpCapture.fromGeneration(export, generation.generation(), restorer);
            restorer.finish();
            claim.done(restorer.restored(), restorer.expired());
        } catch (IOException | RuntimeException e) {
            String reason = words(e.getMessage());
            claim.failed(reason, restorer.restored());
            throw new ImportFailure("Import from " + from + " into " + where + " failed: " + reason + ". "
                    + restorer.restored() + " key(s) were copied before it; the source is untouched. The Redis holds"
                    + " a partial copy, and its marker key '" + ImportMarker.KEY + "' says so: no server serves it"
                    + " until it is emptied. Empty it (FLUSHDB on its database, or FLUSHALL on each Cluster master)"
                    + " and start again: the import runs again.", e);
        }
        LOG.info("Imported generation " + generation.generation() + " (taken at " + generation.takenAt() + ") of "
                + dataDir + " into the Redis at " + where + ": " + restorer.restored() + " keys, "
                + restorer.bytes() + " bytes in " + seconds(start) + " s; " + restorer.expired() + " key(s) had"
                + " expired and were skipped");
        warnAboutOtherDatabases("Generation " + generation.generation() + " of " + dataDir, reading);
    }

    private static void alreadyImported(final Path dataDir, final String where, final Map<String, String> marker) {
        LOG.info("Import from " + dataDir + " (" + ImportSettings.DISTRIBUTED_DATA_DIR + ") not done: the Redis at "
                + where + " already holds " + ImportMarker.describe(marker) + " (marker key '" + ImportMarker.KEY
                + "'), and an import runs once. Unset the key.");
    }

    private static void notEmpty(final String from, final String where, final String holds) {
        LOG.info("Import from " + from + " not done: the Redis at " + where + " already holds " + holds + " and no"
                + " import marker, and the import only fills an empty Redis; nothing was written. Unset the key if"
                + " that data is the one you meant to import.");
    }

    /**
     * Copies the Redis named by {@value ImportSettings#STANDALONE_FROM} into the embedded server, which has just
     * started empty. The caller takes the first snapshot afterwards.
     *
     * @throws ImportFailure naming the key or the step that failed; the source is left as it was
     */
    public static void intoEmbedded(final ImportSettings settings, final TlsSettings tls,
                                    final RedissonClient embedded) {
        if (settings.fromRedis().isEmpty()) {
            return;
        }
        var source = settings.fromRedis().get();
        String from = source + " (" + ImportSettings.STANDALONE_FROM + ")";
        refuseAClusterNode(settings, tls, from);
        long start = System.nanoTime();
        KeyRestorer restorer = new KeyRestorer(embedded);
        DumpCapture.Method method = DumpCapture.Method.REPLICATION;
        DumpCapture.Reading reading;
        try {
            try {
                reading = DumpCapture.fromRedis(source, settings.fromRedisUsername(), settings.fromRedisPassword(),
                        tls, method, RdbFile.EMBEDDED_RDB_VERSION, restorer);
                if (!reading.complete) {
                    throw new IOException("the source did not send its whole RDB over replication");
                }
            } catch (IOException refused) {
                if (source.tls()) {
                    // A TLS failure is not a refused replication: say why, in the operator's terms.
                    var problem = tls.handshakeProblem(source.host(), source.port());
                    if (problem.isPresent()) {
                        throw new IOException("TLS handshake with " + from + " failed: " + problem.get(), refused);
                    }
                }
                LOG.warning("The Redis at " + from + " refused or broke off a replication copy (" + refused.getMessage()
                        + "); copying with SCAN + DUMP + PTTL instead. This copy is NOT point-in-time: keys changed"
                        + " while it runs may arrive in mixed states and multi-key writes torn. Stop the source's"
                        + " writers for an exact copy.");
                // Every RESTORE of the broken copy answered first: one still in flight would land after the flush.
                restorer.finish();
                if (restorer.restored() > 0) {
                    embedded.getKeys().flushall(); // the embedded server started empty for this import
                }
                restorer = new KeyRestorer(embedded);
                method = DumpCapture.Method.SCAN;
                reading = DumpCapture.fromRedis(source, settings.fromRedisUsername(), settings.fromRedisPassword(),
                        tls, method, RdbFile.EMBEDDED_RDB_VERSION, restorer);
                if (!reading.complete) {
                    // Never a short copy taken as whole, however the copy came to its end.
                    throw new IOException(DumpCapture.SCAN_CUT_SHORT);
                }
            }
            restorer.finish();
        } catch (IOException | ImportFailure e) {
            throw failed(from, "the embedded server", restorer, e.getMessage(), e,
                    "No snapshot was taken, so the next start imports again.");
        } catch (AssertionError e) {
            // redis-replicator reports a refused login (AUTH, NOAUTH, NOPERM) this way
            throw failed(from, "the embedded server", restorer, "the source refused the login: " + loginRefusal(e)
                    + "; check " + ImportSettings.STANDALONE_USERNAME + " and " + ImportSettings.STANDALONE_PASSWORD, null,
                    "No snapshot was taken, so the next start imports again.");
        }
        LOG.info("Imported the Redis at " + from + " into the embedded server through " + method.description + ": "
                + restorer.restored() + " keys, " + restorer.bytes() + " bytes in " + seconds(start) + " s; "
                + restorer.expired() + " key(s) had expired and were skipped; the source wrote " + reading.format());
        warnAboutOtherDatabases("The Redis at " + from, reading);
    }

    /**
     * Redis's words for a refused login. redis-replicator's message also carries a digest of the password
     * sent (a hex string), which must reach no log or status: long hex runs are cut out, and so is the cause.
     */
    static String loginRefusal(final AssertionError refused) {
        return String.valueOf(refused.getMessage()).replaceAll("[0-9a-fA-F]{16,}", "<redacted>");
    }

    /** Keys outside database 0 were read and left out: say where, so that nobody believes them copied. */
    private static void warnAboutOtherDatabases(final String source, final DumpCapture.Reading reading) {
        if (!reading.otherDatabases.isEmpty()) {
            LOG.warning(source + " also holds keys in " + reading.otherDatabasesInWords() + "; only database 0 is"
                    + " copied, which is the one the product uses. They were left out; copy them yourself if an"
                    + " application needs them.");
        }
    }

    /**
     * The newest generation that reads back intact, falling back past corrupt ones. Read once without keeping
     * anything (decrypted and checked in memory), before the copy streams it again: a damaged generation is
     * found before a key of it is written.
     */
    private static SnapshotInfo newestReadable(final GenerationExport export, final Path dataDir) throws IOException {
        List<SnapshotInfo> generations = export.generations();
        if (generations.isEmpty()) {
            throw new IOException(dataDir + " holds no snapshot generation; point "
                    + ImportSettings.DISTRIBUTED_DATA_DIR + " at the standalone server's data_dir");
        }
        IOException last = null;
        for (SnapshotInfo candidate : generations) {
            if (!export.keyOpens(candidate.generation())) {
                throw new IOException("generation " + candidate.generation() + " is encrypted and "
                        + ImportSettings.DISTRIBUTED_ENCRYPTION_KEY + " is not set, or not the key it was written with;"
                        + " set it to the standalone server's " + PersistenceSettings.ENCRYPTION_KEY);
            }
            try {
                export.verify(candidate.generation());
                return candidate;
            } catch (IOException e) {
                last = e;
                LOG.warning("Snapshot generation " + candidate.generation() + " in " + dataDir + " cannot be imported ("
                        + e.getMessage() + "); trying an older one");
            }
        }
        throw new IOException("no generation reads back intact; the last problem: " + last.getMessage(), last);
    }

    private static ImportFailure failed(final String from, final String into, final KeyRestorer restorer,
                                        final String why, final Throwable cause, final String whatNext) {
        return new ImportFailure("Import from " + from + " into " + into + " failed: " + words(why) + ". "
                + restorer.restored() + " key(s) were copied before it; the source is untouched. " + whatNext, cause);
    }

    /**
     * A node of a Redis Cluster holds only its own slots' keys: copying it would bring part of the data and
     * look complete. Refused, before anything is copied. A source that cannot be asked is left to the copy,
     * which says why it cannot read it.
     */
    private static void refuseAClusterNode(final ImportSettings settings, final TlsSettings tls, final String from) {
        RedisAddress source = settings.fromRedis().get();
        Config config = new Config().setNettyThreads(1).setThreads(1); // one question, asked once
        SingleServerConfig single = config.useSingleServer().setAddress(source.redissonUri())
                .setConnectionMinimumIdleSize(1).setConnectionPoolSize(1).setSubscriptionConnectionMinimumIdleSize(0)
                .setSubscriptionConnectionPoolSize(1).setConnectTimeout(5_000).setTimeout(5_000).setRetryAttempts(0);
        settings.fromRedisUsername().ifPresent(single::setUsername);
        settings.fromRedisPassword().map(Secret::reveal).ifPresent(single::setPassword);
        if (source.tls()) {
            tls.configure(single);
        }
        RedissonClient probe;
        try {
            probe = Redisson.create(config);
        } catch (RuntimeException e) {
            return;
        }
        String enabled;
        try {
            enabled = probe.getRedisNodes(RedisNodes.SINGLE).getInstance().info(RedisNode.InfoSection.CLUSTER)
                    .get("cluster_enabled");
        } catch (RuntimeException e) {
            return;
        } finally {
            probe.shutdown();
        }
        if ("1".equals(enabled)) {
            throw new ImportFailure("Import from " + from + " refused: it is a node of a Redis Cluster, which holds"
                    + " only the keys of its own slots, so the copy would be partial. Nothing was copied. Move the"
                    + " Cluster's data to one Redis first (docs/migration.md), then import from that one", null);
        }
    }

    /** A reason to go inside a sentence: without its final full stop. */
    private static String words(final String why) {
        return String.valueOf(why).replaceAll("[.\\s]+$", "");
    }

    /** The major version of a {@code redis_version} such as 7.0.15; -1 when it cannot be read. */
    static int major(final String redisVersion) {
        try {
            return Integer.parseInt(String.valueOf(redisVersion).split("\\.")[0]);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String seconds(final long startNanos) {
        return String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - startNanos) / 1e9);
    }
}
