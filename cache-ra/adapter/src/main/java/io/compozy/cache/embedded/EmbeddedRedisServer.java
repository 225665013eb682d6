package io.compozy.cache.embedded;

import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.config.Secret;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * One redis-server process owned by the adapter.
 *
 * <p>The process runs under a tiny {@code /bin/sh} supervisor whose standard input is a pipe from this
 * JVM. When the JVM ends in any way, SIGKILL included, the pipe closes, the supervisor's {@code read}
 * returns and it stops redis-server with SIGTERM: no orphan outlives the server. Where {@code setsid}
 * exists the pair runs in its own session, so a Ctrl-C meant for the server's console reaches the JVM
 * (which then stops Redis in order) and not Redis directly.
 */
public final class EmbeddedRedisServer implements AutoCloseable {

    public static final String HOST = "127.0.0.1";

    private static final Logger LOG = Logger.getLogger(EmbeddedRedisServer.class.getName());
    private static final String PID_MARKER = "compozy-redis-pid ";
    private static final String READY_MARKER = "Ready to accept connections";
    private static final String OWNER_FILE = "owner.pid";
    /** The one RDB file name: what a restore hands Redis at start and what BGSAVE writes. */
    public static final String RDB_FILE = "snapshot.rdb";
    /** Redis's {@code appenddirname}: the multi-part AOF (manifest, base and incr files) in its working directory. */
    public static final String AOF_DIR = "appendonlydir";
    /** Extra start time allowed per byte of an initial RDB (Redis loads well over 10 MB/s). */
    private static final long LOAD_BYTES_PER_SECOND = 10L << 20;
    private static final int PORT_ATTEMPTS = 5;
    private static final Duration STOP_GRACE = Duration.ofSeconds(10);

    /**
     * $1 = redis-server, $2 = its config file. Prints the child's pid; a background watcher stops Redis
     * when stdin (the pipe from this JVM) closes, while the shell itself waits for Redis. The shell must
     * be the one waiting: a Redis that exits on its own (say, refusing an RDB) is then reaped at once,
     * so its exit is seen at once, instead of lingering as a zombie until the start timeout. Stdin goes to
     * the watcher through fd 3, since a background list's own stdin is /dev/null.
     */
    private static final String SUPERVISOR = String.join("\n",
            // Whatever Redis creates (AOF files, RDB files, the AOF directory) is this user's alone.
            "umask 077",
            "exec 3<&0",
            "\"$1\" \"$2\" </dev/null 3<&- &",
            "redis=$!",
            "echo \"" + PID_MARKER + "$redis\"",
            "{ while read -r _ <&3; do :; done; kill -TERM \"$redis\" 2>/dev/null; } &",
            "watcher=$!",
            "exec 3<&-",
            "wait \"$redis\"",
            "kill \"$watcher\" 2>/dev/null");

    private final Process supervisor;
    private final ProcessHandle redis;
    private final int port;
    private final Secret password;
    private final Path runDir;
    private final Path redisDir;
    private final RedisBinary binary;

    /** Writes the RDB file Redis loads at start (the bytes of a restored snapshot). */
    @FunctionalInterface
    public interface InitialData {
        /**
         * @param rdbFile an empty file (mode 0600) in the new run directory
         * @throws IOException to abandon this start; the run directory is removed and the exception rethrown
         */
        void writeTo(Path rdbFile) throws IOException;
    }

    private EmbeddedRedisServer(final Process supervisor, final ProcessHandle redis, final int port,
                                final Secret password, final Path runDir, final Path redisDir,
                                final RedisBinary binary) {
        this.supervisor = supervisor;
        this.redis = redis;
        this.port = port;
        this.password = password;
        this.runDir = runDir;
        this.redisDir = redisDir;
        this.binary = binary;
    }

    /**
     * Starts redis-server on a free loopback port and returns once it accepts connections.
     *
     * @param pump runs the task that drains the process's output for its whole life
     */
    public static EmbeddedRedisServer start(final CacheSettings.Standalone settings, final Executor pump)
            throws IOException {
        return start(settings, pump, Optional.empty());
    }

    /**
     * Starts redis-server as {@link #start(CacheSettings.Standalone, Executor)} does, first loading the RDB
     * that {@code initialData} writes: Redis reads it natively (dropping keys whose TTL has passed) before
     * it accepts connections, and the file is deleted once it has.
     *
     * @throws IOException from {@code initialData} as it was thrown, or when Redis does not start (for
     *     example because it refuses the RDB: the message then carries Redis's own words)
     */
    public static EmbeddedRedisServer start(final CacheSettings.Standalone settings, final Executor pump,
                                            final Optional<InitialData> initialData) throws IOException {
        return start(settings, pump, initialData, initialData.isEmpty());
    }

    /**
     * Starts redis-server as {@link #start(CacheSettings.Standalone, Executor, Optional)} does; with
     * {@code appendOnly} false the append-only file stays off at start even without initial data (an import
     * fills the server first), so nothing is loaded from it or written to it until it is switched on.
     */
    public static EmbeddedRedisServer start(final CacheSettings.Standalone settings, final Executor pump,
                                            final Optional<InitialData> initialData, final boolean appendOnly)
            throws IOException {
        Path workDir = PrivateDirectory.ensure(settings.workDir());
        removeStaleRunDirectories(workDir);
        RedisBinary binary = RedisBinary.select(settings.binary(), workDir);
        Secret password = Secret.of(randomPassword());
        IOException lastFailure = null;
        for (int attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
            int port = freeLoopbackPort();
            try {
                return launch(binary, settings, port, password, workDir, pump, initialData, appendOnly);
            } catch (PortTakenException e) {
                lastFailure = e; // another process bound the port between our probe and Redis's bind
            }
        }
        throw lastFailure;
    }

    /**
     * Starts a new redis-server on the address of {@code previous}, which has exited: the same port and the
     * same password, so a client that was connected to it reconnects by itself. The previous run directory
     * is removed first. {@code initialData} is loaded as in {@link #start(CacheSettings.Standalone, Executor,
     * Optional)}.
     *
     * @throws IOException when Redis does not start, or another process has taken the port meanwhile
     */
    public static EmbeddedRedisServer startAgain(final EmbeddedRedisServer previous,
                                                 final CacheSettings.Standalone settings, final Executor pump,
                                                 final Optional<InitialData> initialData) throws IOException {
        return startAgain(previous, settings, pump, initialData, initialData.isEmpty());
    }

    /** {@link #startAgain(EmbeddedRedisServer, CacheSettings.Standalone, Executor, Optional)}, the AOF as asked. */
    public static EmbeddedRedisServer startAgain(final EmbeddedRedisServer previous,
                                                 final CacheSettings.Standalone settings, final Executor pump,
                                                 final Optional<InitialData> initialData, final boolean appendOnly)
            throws IOException {
        return startAgain(previous, settings, pump, initialData, appendOnly, previous.password);
    }

    /**
     * Starts on the address of {@code previous} with another password: its clients are refused until
     * {@link #withPassword} gives the server theirs back (work on the data before they see it).
     */
    public static EmbeddedRedisServer startAgain(final EmbeddedRedisServer previous,
                                                 final CacheSettings.Standalone settings, final Executor pump,
                                                 final Optional<InitialData> initialData, final boolean appendOnly,
                                                 final Secret password) throws IOException {
        if (previous.isAlive()) {
            throw new IllegalStateException("redis-server (pid " + previous.pid() + ") is still running");
        }
        previous.close(); // reaps the supervisor and removes the dead server's run directory
        Path workDir = PrivateDirectory.ensure(settings.workDir());
        RedisBinary binary = RedisBinary.select(settings.binary(), workDir);
        PortTakenException taken = null;
        for (int attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
            try {
                return launch(binary, settings, previous.port, password, workDir, pump, initialData,
                        appendOnly);
            } catch (PortTakenException e) {
                taken = e; // a connection of the dead server may linger a moment: try again shortly
                pause(Duration.ofMillis(200L * attempt));
            }
        }
        throw new IOException("Could not restart the embedded redis-server on " + HOST + ":" + previous.port
                + ": another process has taken the port. Restart the server to get a new address.", taken);
    }

    /**
     * The same process, once Redis's {@code requirepass} has been changed to {@code newPassword} (CONFIG SET by
     * the caller): from then on use the returned handle, this one names the old password.
     */
    public EmbeddedRedisServer withPassword(final Secret newPassword) {
        return new EmbeddedRedisServer(supervisor, redis, port, newPassword, runDir, redisDir, binary);
    }

    /** A password for a server no client knows yet. */
    public static Secret newPassword() {
        return Secret.of(randomPassword());
    }

    public String host() {
        return HOST;
    }

    public int port() {
        return port;
    }

    public Secret password() {
        return password;
    }

    public long pid() {
        return redis.pid();
    }

    /**
     * What this process runs, checked before it started: for status and readiness
     * ("7.0.15 with Debian security fixes deb12u10", or the operator's binary's {@code --version} line).
     */
    public String binaryDescription() {
        return binary.description();
    }

    /** The private (0700) directory Redis runs in; BGSAVE writes {@link #rdbFile()} there. */
    public Path runDirectory() {
        return runDir;
    }

    /** Where BGSAVE writes its snapshot: Redis's working directory (the run directory, or {@code data_dir/redis} with an AOF). */
    public Path rdbFile() {
        return redisDir.resolve(RDB_FILE);
    }

    /** The directory of the append-only file, when the settings keep one (it may not exist yet). */
    public static Optional<Path> appendOnlyDirectory(final CacheSettings.Standalone settings) {
        return settings.persistence().appendOnlyHome().map(home -> home.resolve(AOF_DIR));
    }

    public boolean isAlive() {
        return redis.isAlive();
    }

    /** Completes when the redis-server process has exited, for whatever reason. */
    public CompletableFuture<ProcessHandle> onExit() {
        return redis.onExit();
    }

    /**
     * Stops Redis gracefully (SIGTERM through the supervisor), then by PID with SIGKILL if it does not
     * exit within the grace period, and removes the run directory.
     */
    @Override
    public void close() {
        try {
            supervisor.getOutputStream().close();
        } catch (IOException e) {
            LOG.log(Level.FINE, "closing the supervisor's pipe", e);
        }
        try {
            redis.onExit().get(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            LOG.warning("Embedded redis-server (pid " + redis.pid() + ") did not stop within "
                    + STOP_GRACE.toSeconds() + " s; killing it");
            redis.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            redis.destroyForcibly();
        } catch (ExecutionException e) {
            redis.destroyForcibly();
        }
        try {
            if (!supervisor.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                supervisor.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            supervisor.destroyForcibly();
        }
        deleteRecursively(runDir);
    }

    private static EmbeddedRedisServer launch(final RedisBinary binary, final CacheSettings.Standalone settings,
                                              final int port, final Secret password, final Path workDir,
                                              final Executor pump, final Optional<InitialData> initialData,
                                              final boolean appendOnly) throws IOException {
        Path runDir = Files.createTempDirectory(workDir, "run-",
                PosixFilePermissions.asFileAttribute(PrivateDirectory.DIR));
        Files.writeString(runDir.resolve(OWNER_FILE), Long.toString(ProcessHandle.current().pid()));
        // With an AOF, Redis works in data_dir/redis: its rewrites are renamed into the AOF directory, which
        // needs one file system. Files a killed fork left there (a BGSAVE's or a rewrite's) are dropped.
        Optional<Path> aofHome = settings.persistence().appendOnlyHome();
        Path redisDir = aofHome.isPresent() ? PrivateDirectory.ensure(aofHome.get()) : runDir;
        if (aofHome.isPresent()) {
            removeLeftoverFiles(redisDir);
        }
        Path rdb = redisDir.resolve(RDB_FILE);
        Duration readyTimeout = settings.startTimeout();
        if (initialData.isPresent()) {
            try {
                Files.createFile(rdb, PosixFilePermissions.asFileAttribute(PrivateDirectory.FILE));
                initialData.get().writeTo(rdb);
                readyTimeout = readyTimeout.plusSeconds(Files.size(rdb) / LOAD_BYTES_PER_SECOND);
            } catch (IOException | RuntimeException e) {
                deleteRecursively(runDir);
                throw e;
            }
        }
        Path config = runDir.resolve("redis.conf");
        Files.createFile(config, PosixFilePermissions.asFileAttribute(PrivateDirectory.FILE));
        // Restored data arrives as an RDB, which Redis ignores when it starts with appendonly yes: the AOF is
        // then switched on once the RDB is loaded (the caller rebuilds it from the data).
        boolean appendOnlyAtStart = aofHome.isPresent() && initialData.isEmpty() && appendOnly;
        if (appendOnlyAtStart) {
            // Loading the AOF left by the last run takes time like an RDB of its size does.
            readyTimeout = readyTimeout.plusSeconds(bytesIn(redisDir.resolve(AOF_DIR)) / LOAD_BYTES_PER_SECOND);
        }
        Files.writeString(config, redisConfig(settings, port, password, redisDir, appendOnlyAtStart),
                StandardCharsets.UTF_8);

        List<String> command = new java.util.ArrayList<>();
        setsid().ifPresent(setsid -> command.add(setsid.toString()));
        command.addAll(List.of("/bin/sh", "-c", SUPERVISOR, "compozy-redis-supervisor",
                binary.path().toString(), config.toString()));
        Process supervisor = new ProcessBuilder(command)
                .directory(runDir.toFile())
                .redirectErrorStream(true)
                .start();

        OutputWatcher watcher = new OutputWatcher(supervisor);
        pump.execute(watcher);
        try {
            long pid = watcher.pid.get(settings.startTimeout().toMillis(), TimeUnit.MILLISECONDS);
            ProcessHandle redis = ProcessHandle.of(pid).orElseThrow(
                    () -> new IOException("redis-server exited before it was ready"));
            // The supervisor outlives a failed redis-server, so its output does not end: watch the process.
            redis.onExit().thenRun(() -> watcher.ready.completeExceptionally(
                    new IOException("redis-server exited before it was ready")));
            watcher.ready.get(readyTimeout.toMillis(), TimeUnit.MILLISECONDS);
            // Redis has read its config; the password now lives only in its memory and ours.
            Files.deleteIfExists(config);
            // ... and it has loaded the initial data: the only copy on disk is the snapshot store's.
            Files.deleteIfExists(rdb);
            return new EmbeddedRedisServer(supervisor, redis, port, password, runDir, redisDir, binary);
        } catch (TimeoutException | ExecutionException | InterruptedException | IOException e) {
            supervisor.getOutputStream().close();
            supervisor.destroyForcibly();
            long pid = watcher.pid.isDone() && !watcher.pid.isCompletedExceptionally() ? watcher.pid.join() : -1;
            if (pid > 0) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
            deleteRecursively(runDir);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            String output = watcher.recentOutput();
            if (output.contains("Address already in use")) {
                throw new PortTakenException(port);
            }
            if (e instanceof TimeoutException) {
                throw new StartTimeoutException("Could not start the embedded redis-server " + binary.path() + " on "
                        + HOST + ":" + port + ": it was not ready within " + readyTimeout.toMillis() + " ms ("
                        + CacheSettings.START_TIMEOUT + " plus time to load the initial data or the append-only"
                        + " file). Its last output: " + output, readyTimeout, e);
            }
            throw new IOException("Could not start the embedded redis-server " + binary.path() + " on " + HOST + ":"
                    + port + ": it exited before it was ready. Its last output: " + output, e);
        }
    }

    /** The bytes of the files in {@code directory} (an AOF's base, increments and manifest); 0 when absent. */
    public static long bytesIn(final Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            return 0;
        }
        try (java.util.stream.Stream<Path> files = Files.list(directory)) {
            return files.filter(Files::isRegularFile).mapToLong(file -> file.toFile().length()).sum();
        }
    }

    static String redisConfig(final CacheSettings.Standalone settings, final int port, final Secret password,
                              final Path redisDir, final boolean appendOnly) {
        PersistenceSettings.AppendFsync fsync = settings.persistence().aof();
        return String.join("\n",
                "# Written by the Compozy cache resource adapter; deleted once Redis has read it.",
                "bind " + HOST,
                "port " + port,
                "protected-mode yes",
                "requirepass " + password.reveal(),
                "daemonize no",
                "logfile \"\"",
                "dir \"" + redisDir + "\"",
                // The RDB a restore starts from, and what the adapter's BGSAVE snapshots write.
                "dbfilename " + RDB_FILE,
                // Snapshots are the adapter's job (BGSAVE when it asks); Redis never saves on its own.
                "save \"\"",
                // The append-only file, when persistence.aof asks for one (docs/persistence.md).
                "appendonly " + (appendOnly ? "yes" : "no"),
                "appenddirname " + AOF_DIR,
                "appendfsync " + (fsync == PersistenceSettings.AppendFsync.OFF ? "everysec" : fsync.value()),
                // A tail cut short by a crash is the normal case: load what is whole, drop the partial command.
                "aof-load-truncated yes",
                "maxmemory " + settings.maxMemory(),
                "maxmemory-policy " + settings.maxMemoryPolicy(),
                // A replica-based snapshot should start at once, not after the default 5 s delay.
                "repl-diskless-sync-delay 0",
                // Every RESTORE (imports, key migration, any client) and every RDB loaded at start (a restore, an
                // upload, an AOF's base) is checked whole: a malformed payload is refused, not run (docs/security.md).
                "sanitize-dump-payload yes",
                "");
    }

    private static int freeLoopbackPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            return socket.getLocalPort();
        }
    }

    private static String randomPassword() {
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static void pause(final Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Optional<Path> setsid() {
        return Stream.of("/usr/bin/setsid", "/bin/setsid").map(Path::of).filter(Files::isExecutable).findFirst();
    }

    /**
     * Removes what a killed BGSAVE or AOF rewrite left in Redis's working directory ({@code temp-*}), and a
     * finished BGSAVE's RDB that a killed JVM never stored: the data a start loads is the AOF or a stored
     * generation, never that file, and left there it would block every restore of a generation.
     */
    private static void removeLeftoverFiles(final Path redisDir) throws IOException {
        try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(redisDir, "temp-*")) {
            for (Path leftover : leftovers) {
                Files.deleteIfExists(leftover);
            }
        }
        Files.deleteIfExists(redisDir.resolve(RDB_FILE));
    }

    /** Removes run directories of JVMs that no longer exist (a killed server leaves its own behind). */
    private static void removeStaleRunDirectories(final Path workDir) throws IOException {
        try (DirectoryStream<Path> runs = Files.newDirectoryStream(workDir, "run-*")) {
            for (Path run : runs) {
                Optional<Long> owner = readOwner(run.resolve(OWNER_FILE));
                boolean ownerAlive = owner.flatMap(ProcessHandle::of).map(ProcessHandle::isAlive).orElse(false);
                if (!ownerAlive) {
                    deleteRecursively(run);
                }
            }
        }
    }

    private static Optional<Long> readOwner(final Path ownerFile) {
        try {
            return Optional.of(Long.parseLong(Files.readString(ownerFile).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static void deleteRecursively(final Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            LOG.log(Level.WARNING, "Could not remove " + dir, e);
        }
    }

    /** Drains the supervisor's output for the process's whole life, into the server log. */
    private static final class OutputWatcher implements Runnable {

        private static final int KEEP_LINES = 20;

        final CompletableFuture<Long> pid = new CompletableFuture<>();
        final CompletableFuture<Void> ready = new CompletableFuture<>();
        private final Process supervisor;
        private final Deque<String> recent = new ArrayDeque<>();

        OutputWatcher(final Process supervisor) {
            this.supervisor = supervisor;
        }

        @Override
        public void run() {
            try (BufferedReader lines = new BufferedReader(
                    new InputStreamReader(supervisor.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = lines.readLine()) != null) {
                    if (line.startsWith(PID_MARKER)) {
                        pid.complete(Long.parseLong(line.substring(PID_MARKER.length()).trim()));
                        continue;
                    }
                    remember(line);
                    // Redis marks warnings with '#'; everything else is routine.
                    LOG.log(line.contains(" # ") ? Level.WARNING : Level.FINE, "redis-server: {0}", line);
                    if (line.contains(READY_MARKER)) {
                        ready.complete(null);
                    }
                }
            } catch (IOException e) {
                LOG.log(Level.FINE, "reading redis-server output", e);
            } finally {
                IOException exited = new IOException("redis-server exited");
                pid.completeExceptionally(exited);
                ready.completeExceptionally(exited);
            }
        }

        private synchronized void remember(final String line) {
            if (recent.size() == KEEP_LINES) {
                recent.removeFirst();
            }
            recent.addLast(line);
        }

        synchronized String recentOutput() {
            return recent.isEmpty() ? "(none)" : String.join(" | ", recent);
        }
    }

    /**
     * Redis was still starting (loading its initial data, say) when the wait ran out. Not a verdict on
     * the data: a caller must not treat it like a file Redis refused.
     */
    public static final class StartTimeoutException extends IOException {
        private static final long serialVersionUID = 1L;
        private final Duration waited;

        StartTimeoutException(final String message, final Duration waited, final Throwable cause) {
            super(message, cause);
            this.waited = waited;
        }

        /** How long the start was given. */
        public Duration waited() {
            return waited;
        }
    }

    /** Redis could not bind the port it was given. */
    private static final class PortTakenException extends IOException {
        private static final long serialVersionUID = 1L;

        PortTakenException(final int port) {
            super("port " + port + " was taken before redis-server could bind it");
        }
    }
}
