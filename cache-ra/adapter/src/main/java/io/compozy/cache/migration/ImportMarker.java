package io.compozy.cache.migration;

import io.compozy.cache.config.ImportSettings;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;
import java.util.regex.Pattern;
import org.redisson.Redisson;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.client.RedisConnection;
import org.redisson.client.codec.StringCodec;
import org.redisson.client.protocol.RedisCommands;
import org.redisson.command.CommandAsyncExecutor;

/**
 * The record an import into an external Redis keeps in that Redis, so that every start can tell an import
 * that finished from one under way and from one that broke off (docs/migration.md). One hash,
 * {@value #KEY}: written before the first RESTORE, marked {@code done} only after the last key was answered,
 * and kept. One key, so one slot on a Cluster; under the internal prefix, which no store reads.
 *
 * <p>Fields: {@code state} ({@code importing}, {@code failed} or {@code done}), {@code source},
 * {@code generation}, {@code taken_at}, {@code server} (host and pid), {@code connection},
 * {@code started_at}; then {@code finished_at}, {@code keys} and {@code expired}, or {@code failed_at},
 * {@code keys} and {@code reason}.
 *
 * <p>While it imports, the server holds a connection of its own to the marker's node, named {@code connection}
 * with CLIENT SETNAME. Redis drops it when that server stops or dies, so an {@code importing} marker whose
 * connection is not in CLIENT LIST is an import that broke off: told from one under way without a clock.
 */
final class ImportMarker {

    static final String KEY = "__compozy_internal__:import";
    static final String IMPORTING = "importing";
    static final String FAILED = "failed";
    static final String DONE = "done";

    private static final Logger LOG = Logger.getLogger(ImportMarker.class.getName());
    private static final byte[] KEY_BYTES = KEY.getBytes(StandardCharsets.UTF_8);
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * KEYS[1] the marker; ARGV field, value, ... of a new claim. Creates the marker only when there is none and
     * the marker's node holds no key. Returns 1 when claimed, 0 when a marker exists, -1 when the node holds keys.
     */
    private static final String CLAIM = """
            if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
            if redis.call('DBSIZE') > 0 then return -1 end
            redis.call('HSET', KEYS[1], unpack(ARGV))
            return 1""";
    /**
     * KEYS[1] the marker; ARGV[1] the claim's connection name, then field, value, ... Updates the marker only
     * while it is still that claim's. Returns 1 when updated, 0 when the marker is gone or another's.
     */
    private static final String UPDATE = """
            if redis.call('HGET', KEYS[1], 'connection') ~= ARGV[1] then return 0 end
            redis.call('HSET', KEYS[1], unpack(ARGV, 2))
            return 1""";

    private ImportMarker() {
    }

    /** Whether a key read from a source is a marker: never copied (it describes the Redis it is in). */
    static boolean isMarker(final byte[] key) {
        return java.util.Arrays.equals(key, KEY_BYTES);
    }

    /** The marker's fields; empty when the Redis has none. */
    static Map<String, String> read(final RedissonClient target) {
        return target.<String, String>getMap(KEY, StringCodec.INSTANCE).readAllMap();
    }

    /**
     * Reads the marker and refuses a Redis whose import is not done: one under way (do not touch it, start again
     * once it is done) or one that broke off (a partial copy: empty it, or delete the marker to keep it).
     *
     * @param importing whether this server has {@value ImportSettings#DISTRIBUTED_DATA_DIR} set
     * @return the marker of a finished import; empty when the Redis has none
     * @throws ImportFailure naming the marker, what it says and what to do
     */
    static Map<String, String> requireFinished(final RedissonClient target, final String where,
                                               final boolean importing) {
        Map<String, String> marker = read(target);
        Optional<Boolean> running = Optional.of(false);
        if (IMPORTING.equals(marker.get("state"))) {
            running = connectionOpen(target, marker.getOrDefault("connection", ""));
            if (running.isPresent() && !running.get()) {
                // An import marks itself done or failed before it closes its connection: look again.
                marker = read(target);
            }
        }
        String state = marker.getOrDefault("state", "?");
        if (marker.isEmpty() || DONE.equals(state)) {
            return marker;
        }
        String opening = (importing ? "Import into the Redis at " + where + " not started"
                : "Not serving the Redis at " + where) + ": its marker key '" + KEY + "' says " + describe(marker);
        if (IMPORTING.equals(state) && running.isPresent() && running.get()) {
            throw new ImportFailure(opening + ", and that import's connection '" + marker.get("connection") + "' is"
                    + " open: another server is importing into this Redis now. Do not empty or change it, which"
                    + " would destroy that import. Start this server again once that import is done (its"
                    + " messages.log says 'Imported generation ...'); nothing was written by this one", null);
        }
        String remedy = "Empty it (FLUSHDB on its database, or FLUSHALL on each Cluster master) and start a server"
                + " with " + ImportSettings.DISTRIBUTED_DATA_DIR + " set: the import runs again. To serve the partial"
                + " copy as it is instead, delete the marker (DEL " + KEY + ")";
        if (IMPORTING.equals(state) && running.isEmpty()) {
            throw new ImportFailure(opening + ", and whether that import still runs cannot be told ("
                    + connectionUnknown(marker) + "). If a server is still importing (its messages.log has no"
                    + " 'Imported generation' or 'failed' line for it yet), wait for it and start this one again;"
                    + " do not empty the Redis meanwhile. If none is, the Redis holds a partial copy, which is not"
                    + " served. " + remedy, null);
        }
        String why = FAILED.equals(state) ? ", because " + marker.getOrDefault("reason", "?")
                : IMPORTING.equals(state) ? ", and no connection of that import is open any more: its server stopped"
                + " or died during the copy" : "";
        throw new ImportFailure(opening + why + ". The Redis holds a partial copy, which is not served. " + remedy,
                null);
    }

    /** "an import of generation 7 (taken at ...) of /srv/data, begun by host pid 12 at ..., ..." for messages. */
    static String describe(final Map<String, String> marker) {
        String state = marker.getOrDefault("state", "?");
        String what = "an import of generation " + marker.getOrDefault("generation", "?") + " (taken at "
                + marker.getOrDefault("taken_at", "?") + ") of " + marker.getOrDefault("source", "?") + ", begun by "
                + marker.getOrDefault("server", "?") + " at " + marker.getOrDefault("started_at", "?");
        return switch (state) {
            case DONE -> what + ", finished at " + marker.getOrDefault("finished_at", "?") + " with "
                    + marker.getOrDefault("keys", "?") + " key(s)";
            case FAILED -> what + ", failed at " + marker.getOrDefault("failed_at", "?") + " after "
                    + marker.getOrDefault("keys", "?") + " key(s)";
            case IMPORTING -> what + ", not finished";
            default -> what + ", in the unknown state '" + state + "'";
        };
    }

    private static String connectionUnknown(final Map<String, String> marker) {
        String connection = marker.getOrDefault("connection", "");
        return connection.isEmpty() ? "that server could not name a connection of its own" : "CLIENT LIST is refused";
    }

    /** Whether a connection of that name is open on the marker's node; empty when that cannot be asked. */
    private static Optional<Boolean> connectionOpen(final RedissonClient target, final String connection) {
        if (connection.isEmpty()) {
            return Optional.empty();
        }
        CommandAsyncExecutor executor = ((Redisson) target).getCommandExecutor();
        try {
            List<String> clients = executor.get(executor.<List<String>, List<String>>writeAsync(KEY,
                    StringCodec.INSTANCE, RedisCommands.CLIENT_LIST));
            Pattern named = Pattern.compile("(^|\\s)name=" + Pattern.quote(connection) + "(\\s|$)");
            return Optional.of(clients.stream().anyMatch(line -> named.matcher(line).find()));
        } catch (RuntimeException e) {
            LOG.fine("CLIENT LIST refused: " + e);
            return Optional.empty();
        }
    }

    /**
     * Claims the Redis for one import: names a connection of its own to the marker's node, then creates the
     * marker, {@code importing}, atomically with the check that there is no marker and the node holds no key.
     *
     * @param fields what is imported: {@code source}, {@code generation}, {@code taken_at}
     */
    static Claim claim(final RedissonClient target, final Map<String, String> fields) {
        String connection = "compozy-import-" + HexFormat.of().formatHex(randomBytes());
        RedisConnection held = null;
        try {
            held = ((Redisson) target).getCommandExecutor().getConnectionManager().getEntry(KEY).getClient().connect();
            held.sync(RedisCommands.CLIENT_SETNAME, connection);
        } catch (RuntimeException e) {
            LOG.warning("The import could not hold a named connection to the Redis (" + e.getMessage() + "); a"
                    + " server that starts while it runs cannot tell it from an import that broke off");
            if (held != null) {
                held.closeAsync();
                held = null;
            }
            connection = "";
        }
        Map<String, String> marker = new LinkedHashMap<>();
        marker.put("state", IMPORTING);
        marker.putAll(fields);
        marker.put("server", server());
        marker.put("connection", connection);
        marker.put("started_at", Instant.now().toString());
        long outcome;
        try {
            outcome = target.getScript(StringCodec.INSTANCE).eval(KEY, RScript.Mode.READ_WRITE, CLAIM,
                    RScript.ReturnType.INTEGER, List.of(KEY), flat(marker));
        } catch (RuntimeException e) {
            if (held != null) {
                held.closeAsync();
            }
            throw e;
        }
        if (outcome != 1 && held != null) {
            held.closeAsync();
            held = null;
        }
        return new Claim(target, connection, held, outcome);
    }

    private static byte[] randomBytes() {
        byte[] bytes = new byte[8];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    /** "host pid 1234": who imports, for the operator. */
    private static String server() {
        String host = System.getenv("HOSTNAME");
        if (host == null || host.isBlank()) {
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (UnknownHostException e) {
                host = "an unnamed host";
            }
        }
        return host + " pid " + ProcessHandle.current().pid();
    }

    private static Object[] flat(final Map<String, String> fields) {
        List<Object> values = new ArrayList<>();
        fields.forEach((field, value) -> {
            values.add(field);
            values.add(value);
        });
        return values.toArray();
    }

    /** One import's hold on the marker: {@link #done} or {@link #failed} it, then close its connection. */
    static final class Claim implements AutoCloseable {

        private final RedissonClient target;
        private final String connection;
        private final RedisConnection held;
        private final long outcome;

        private Claim(final RedissonClient target, final String connection, final RedisConnection held,
                      final long outcome) {
            this.target = target;
            this.connection = connection;
            this.held = held;
            this.outcome = outcome;
        }

        /** Whether this import owns the marker; otherwise another marker was there or the node held keys. */
        boolean won() {
            return outcome == 1;
        }

        /** Whether the claim was refused because the marker's node holds keys (written since they were counted). */
        boolean nodeHoldsKeys() {
            return outcome == -1;
        }

        /**
         * Marks the import finished, after its last key was answered.
         *
         * @throws ImportFailure when the marker is no longer this import's (deleted or replaced meanwhile)
         */
        void done(final long keys, final long expired) {
            if (!update(Map.of("state", DONE, "finished_at", Instant.now().toString(), "keys", Long.toString(keys),
                    "expired", Long.toString(expired)))) {
                throw new ImportFailure("the marker key '" + KEY + "' was deleted or replaced during the import, so"
                        + " it cannot record the import as done", null);
            }
        }

        /** Records why the import failed, so that the next start says so; best effort (the Redis may be gone). */
        void failed(final String reason, final long keys) {
            try {
                update(Map.of("state", FAILED, "failed_at", Instant.now().toString(), "keys", Long.toString(keys),
                        "reason", reason));
            } catch (RuntimeException e) {
                LOG.warning("Could not record the failed import in " + KEY + " (" + e.getMessage() + "); it still"
                        + " says 'importing', and the next start finds no connection of it open");
            }
        }

        private boolean update(final Map<String, String> fields) {
            List<Object> args = new ArrayList<>();
            args.add(connection);
            args.addAll(List.of(flat(fields)));
            long updated = target.getScript(StringCodec.INSTANCE).eval(KEY, RScript.Mode.READ_WRITE, UPDATE,
                    RScript.ReturnType.INTEGER, List.of(KEY), args.toArray());
            return updated == 1;
        }

        @Override
        public void close() {
            if (held != null) {
                held.closeAsync();
            }
        }
    }
}
