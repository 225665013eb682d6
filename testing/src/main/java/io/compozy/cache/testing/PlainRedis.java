package io.compozy.cache.testing;

import io.compozy.cache.embedded.RedisBinary;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import io.netty.resolver.DefaultAddressResolverGroup;
import org.redisson.client.RedisClient;
import org.redisson.client.RedisClientConfig;
import org.redisson.client.RedisConnection;
import org.redisson.client.codec.StringCodec;
import org.redisson.client.protocol.RedisCommand;

/**
 * A plain redis-server (the bundled 7.0 binary, no adapter around it) on a free loopback port, in a directory
 * of its own, optionally started on an RDB file as any Redis is: {@code --dir} and {@code --dbfilename}. For
 * proving that an RDB file the adapter writes is one Redis loads, and for making reference RDB files.
 * DEBUG is enabled (loopback only) for DEBUG DIGEST. Stopped by its PID.
 */
public final class PlainRedis implements AutoCloseable, RedisCommands {

    private static final String DBFILENAME = "dump.rdb";
    private static final long READY_MS = 30_000;

    private final Process process;
    private final Path dir;
    private final int port;
    private final RedisClient client;
    private final RedisConnection connection;

    private PlainRedis(final Process process, final Path dir, final int port, final RedisClient client,
                       final RedisConnection connection) {
        this.process = process;
        this.dir = dir;
        this.port = port;
        this.client = client;
        this.connection = connection;
    }

    /** Starts an empty server. */
    public static PlainRedis start() {
        return start(Optional.empty());
    }

    /** Starts a server that loads a copy of {@code rdb} at start (Redis refuses to start on a file it cannot load). */
    public static PlainRedis start(final Optional<Path> rdb) {
        try {
            Path dir = Files.createTempDirectory("compozy-plain-redis-");
            if (rdb.isPresent()) {
                Files.copy(rdb.get(), dir.resolve(DBFILENAME), StandardCopyOption.REPLACE_EXISTING);
            }
            Path binary = RedisBinary.resolve(Optional.empty(), dir);
            int port = freePort();
            Process process = new ProcessBuilder(binary.toString(), "--port", Integer.toString(port),
                    "--bind", "127.0.0.1", "--dir", dir.toString(), "--dbfilename", DBFILENAME, "--save", "",
                    "--appendonly", "no", "--enable-debug-command", "local", "--repl-diskless-sync-delay", "0")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
            RedisClient client;
            try {
                // A resolver given keeps Redisson from probing native transports the test class path may lack.
                client = RedisClient.create(new RedisClientConfig().setAddress("127.0.0.1", port)
                        .setResolverGroup(DefaultAddressResolverGroup.INSTANCE));
            } catch (RuntimeException | Error e) {
                process.destroyForcibly(); // no server outlives a harness that could not use it
                throw e;
            }
            long deadline = System.currentTimeMillis() + READY_MS;
            while (true) {
                try {
                    RedisConnection connection = client.connect();
                    // LOADING until the RDB is in memory: ready once PING answers.
                    connection.sync(StringCodec.INSTANCE, new RedisCommand<String>("PING"));
                    return new PlainRedis(process, dir, port, client, connection);
                } catch (RuntimeException notYet) {
                    if (!process.isAlive() || System.currentTimeMillis() > deadline) {
                        process.destroyForcibly();
                        client.shutdown();
                        throw new IllegalStateException("redis-server did not start on " + rdb.orElse(null) + ": "
                                + Files.readString(dir.resolve("redis.log")), notYet);
                    }
                    TimeUnit.MILLISECONDS.sleep(20); // poll interval while the server loads
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public int port() {
        return port;
    }

    @Override
    public Object call(final String... command) {
        Object[] args = java.util.Arrays.copyOfRange(command, 1, command.length);
        return connection.sync(StringCodec.INSTANCE, new RedisCommand<Object>(command[0]), args);
    }

    /** DEBUG DIGEST: one hash over every key, value and expiry; equal on servers that hold the same data. */
    public String digest() {
        return (String) call("DEBUG", "DIGEST");
    }

    /** Runs SAVE and returns the RDB file it wrote (in this server's directory, gone after {@link #close}). */
    public Path save() {
        call("SAVE");
        return dir.resolve(DBFILENAME);
    }

    /** The redis:// URL of this server (no password), for configuration keys. */
    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    @Override
    public void close() {
        client.shutdown();
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            // a temp directory left behind
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }
}
