package io.compozy.cache.migration;

import com.moilioncircle.redis.replicator.Configuration;
import com.moilioncircle.redis.replicator.RedisRdbReplicator;
import com.moilioncircle.redis.replicator.RedisScanReplicator;
import com.moilioncircle.redis.replicator.RedisSocketReplicator;
import com.moilioncircle.redis.replicator.Replicator;
import com.moilioncircle.redis.replicator.event.PostRdbSyncEvent;
import com.moilioncircle.redis.replicator.io.RedisInputStream;
import com.moilioncircle.redis.replicator.rdb.ScanRdbGenerator;
import com.moilioncircle.redis.replicator.rdb.datatype.AuxField;
import com.moilioncircle.redis.replicator.rdb.dump.DumpRdbVisitor;
import com.moilioncircle.redis.replicator.rdb.dump.datatype.DumpKeyValuePair;
import io.compozy.cache.config.RedisAddress;
import io.compozy.cache.config.Secret;
import io.compozy.cache.config.TlsSettings;
import io.compozy.cache.persistence.GenerationExport;
import io.compozy.cache.persistence.RdbFile;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.security.GeneralSecurityException;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import javax.net.ssl.SSLParameters;

/**
 * Reads every key of an RDB as a DUMP payload with its expiry, through redis-replicator, and hands each to a
 * {@link KeyRestorer}: from a stored generation, from a source Redis's replication stream (the RDB it sends a new
 * replica, written at one fork: point-in-time), or from SCAN + DUMP + PTTL (not point-in-time).
 */
final class DumpCapture {

    /** How the keys were read. */
    enum Method {
        FILE("the snapshot's RDB file"),
        REPLICATION("the replication stream (point-in-time)"),
        SCAN("SCAN + DUMP + PTTL (not point-in-time)");

        final String description;

        Method(final String description) {
            this.description = description;
        }
    }

    /**
     * What was read: the RDB format and the Redis that wrote it, whether the end marker was reached, and the keys
     * of databases other than 0, which are not copied (the product uses database 0; a replication stream or an
     * RDB carries every database).
     */
    static final class Reading {
        volatile int rdbVersion = -1;
        volatile String redisVersion = "?";
        volatile boolean complete;
        final Map<Long, Long> otherDatabases = new ConcurrentSkipListMap<>();

        /** "database 3 (2 keys), database 5 (1 key)", or empty when every key was in database 0. */
        String otherDatabasesInWords() {
            return otherDatabases.entrySet().stream().map(e -> "database " + e.getKey() + " (" + e.getValue()
                    + (e.getValue() == 1 ? " key)" : " keys)")).collect(Collectors.joining(", "));
        }

        /** "RDB format 10, Redis 7.0.15" for messages. */
        String format() {
            return "RDB format " + (rdbVersion < 0 ? "?" : rdbVersion) + " (written by Redis "
                    + ("?".equals(redisVersion) ? RdbFile.writerOf(rdbVersion) : redisVersion) + ")";
        }
    }

    /** Why a SCAN copy ended early: the source closed the connection (or died) before the cursor came back to 0. */
    static final String SCAN_CUT_SHORT = "the source closed the connection before SCAN reached its last key, so the"
            + " copy would be short";
    /** Bytes buffered between the store's reader and the parser. */
    private static final int PIPE_BYTES = 1 << 20;

    private DumpCapture() {
    }

    /**
     * Every key of a stored generation, streamed: the store decrypts and checks it chunk by chunk as the parser
     * reads, so no plaintext copy of it is ever written to disk (nor needs the space). The store is read on a
     * thread of its own that is never interrupted (an interrupt during JE I/O invalidates the environment); when
     * the parse stops early, closing the pipe ends that thread at its next write.
     *
     * @throws IOException when the generation cannot be read back intact to its end
     */
    static Reading fromGeneration(final GenerationExport export, final long generation, final KeyRestorer target)
            throws IOException {
        PipedInputStream in = new PipedInputStream(PIPE_BYTES);
        PipedOutputStream out = new PipedOutputStream(in);
        CompletableFuture<Void> written = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (PipedOutputStream rdb = out) {
                export.writeRdb(OptionalLong.of(generation), rdb);
                written.complete(null);
            } catch (IOException | RuntimeException e) {
                written.completeExceptionally(e);
            }
        }, "compozy-cache-import-generation-" + generation);
        reader.setDaemon(true);
        reader.start();
        Reading reading;
        try {
            reading = run(new RedisRdbReplicator(in, configuration()), -1, target, false);
        } finally {
            in.close();
            joinUninterruptibly(reader);
        }
        if (!reading.complete) {
            Throwable why = written.handle((ok, error) -> error).join();
            throw new IOException("generation " + generation + " ended before its end marker"
                    + (why == null ? "" : ": " + why.getMessage()), why);
        }
        return reading;
    }

    private static void joinUninterruptibly(final Thread thread) {
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Every key of a source Redis, as payloads in {@code targetRdbVersion} where the data allows (redis-replicator
     * converts newer encodings down).
     *
     * @param method {@link Method#REPLICATION} or {@link Method#SCAN}
     * @throws IOException when the source cannot be read this way (refused, unreachable)
     */
    static Reading fromRedis(final RedisAddress source, final Optional<String> username, final Optional<Secret> password,
                             final TlsSettings tls, final Method method, final int targetRdbVersion,
                             final KeyRestorer target) throws IOException {
        Configuration configuration = configuration().setSsl(source.tls()).setRetries(1)
                .setConnectionTimeout(5_000).setReadTimeout(60_000);
        if (source.tls()) {
            // The same CAs, client certificate and host name check as every other Redis connection.
            try {
                configuration.setSslSocketFactory(tls.sslContext().getSocketFactory());
            } catch (GeneralSecurityException e) {
                throw new IOException("cannot set up TLS from the redis.tls.* keys: " + e.getMessage(), e);
            }
            SSLParameters parameters = new SSLParameters();
            parameters.setEndpointIdentificationAlgorithm(tls.verifyHostname() ? "HTTPS" : null);
            configuration.setSslParameters(parameters);
        }
        username.ifPresent(configuration::setAuthUser);
        password.map(Secret::reveal).ifPresent(configuration::setAuthPassword);
        if (source.database() != 0) {
            throw new IOException("the source names database " + source.database() + "; only database 0 is copied");
        }
        Replicator replicator = method == Method.SCAN
                ? new ScanReplicator(source.host(), source.port(), configuration)
                : new RedisSocketReplicator(source.host(), source.port(), configuration);
        return run(replicator, targetRdbVersion, target, method == Method.REPLICATION);
    }

    private static Reading run(final Replicator replicator, final int targetRdbVersion, final KeyRestorer target,
                               final boolean stopAtEndOfRdb) throws IOException {
        Reading reading = new Reading();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        replicator.setRdbVisitor(new Visitor(replicator, targetRdbVersion, reading));
        replicator.addEventListener((source, event) -> {
            if (event instanceof DumpKeyValuePair pair) {
                long database = pair.getDb() == null ? 0 : pair.getDb().getDbNumber();
                if (database == 0) {
                    target.restore(pair, reading.format());
                } else {
                    reading.otherDatabases.merge(database, 1L, Long::sum);
                }
            } else if (event instanceof AuxField aux && "redis-ver".equals(aux.getAuxKey())) {
                reading.redisVersion = aux.getAuxValue();
            } else if (event instanceof PostRdbSyncEvent) {
                reading.complete = true;
                if (stopAtEndOfRdb) {
                    closeQuietly(source); // the keys are in; the command stream that follows is not wanted
                }
            }
        });
        // A listener's exception comes here, not out of open(): stop reading and report it.
        replicator.addExceptionListener((source, error, event) -> {
            failed.compareAndSet(null, error);
            closeQuietly(source);
        });
        try {
            replicator.open();
        } finally {
            closeQuietly(replicator);
        }
        Throwable error = failed.get();
        if (error instanceof RuntimeException runtime) {
            throw runtime;
        }
        if (error != null) {
            throw new ImportFailure(String.valueOf(error.getMessage()), error);
        }
        return reading;
    }

    private static Configuration configuration() {
        return Configuration.defaultSetting().setUseDefaultExceptionListener(false);
    }

    private static void closeQuietly(final Replicator replicator) {
        try {
            replicator.close();
        } catch (IOException e) {
            // closing a finished reader
        }
    }

    /**
     * redis-replicator's SCAN reader, except that a source closing the connection mid-copy ends the copy with
     * an error. Its 3.11.0 swallows that EOFException and leaves the pipe to the parser open: the import would
     * wait forever for the rest, or take what came as the whole copy were the pipe closed.
     */
    private static final class ScanReplicator extends RedisScanReplicator {

        ScanReplicator(final String host, final int port, final Configuration configuration) {
            super(host, port, configuration);
        }

        @Override
        public void run() {
            try {
                new ScanRdbGenerator(host, port, configuration, outputStream).generate();
            } catch (EOFException e) {
                exception = new IOException(SCAN_CUT_SHORT, e);
                endPipe(outputStream);
            } catch (IOException | RuntimeException | Error e) {
                exception = e;
                endPipe(outputStream);
            }
        }

        private static void endPipe(final OutputStream out) {
            try {
                out.close(); // the parser reads to the end of what came, then the error above is thrown
            } catch (IOException e) {
                // closing a pipe
            }
        }
    }

    /** The library's DUMP visitor, remembering the RDB format version it reads. */
    private static final class Visitor extends DumpRdbVisitor {

        private final Reading reading;

        Visitor(final Replicator replicator, final int targetRdbVersion, final Reading reading) {
            super(replicator, targetRdbVersion);
            this.reading = reading;
        }

        @Override
        public int applyVersion(final RedisInputStream in) throws IOException {
            int version = super.applyVersion(in);
            reading.rdbVersion = version;
            return version;
        }
    }
}
