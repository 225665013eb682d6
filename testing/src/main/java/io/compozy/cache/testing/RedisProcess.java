package io.compozy.cache.testing;

import io.compozy.cache.embedded.RedisBinary;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.resolver.DefaultAddressResolverGroup;
import io.netty.util.HashedWheelTimer;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.redisson.client.RedisClient;
import org.redisson.client.RedisClientConfig;
import org.redisson.client.RedisConnection;
import org.redisson.client.codec.StringCodec;
import org.redisson.client.protocol.RedisCommand;
import org.redisson.client.protocol.RedisStrictCommand;

/**
 * One redis-server (data node or sentinel) the harness runs for its topologies: started from the same
 * bundled binary standalone mode uses, on a loopback port, in a directory of its own, and stopped by PID
 * when the JVM exits. Also the harness's way to send a node one administrative command.
 */
final class RedisProcess {

    static final String HOST = "127.0.0.1";
    private static final List<RedisProcess> RUNNING = new ArrayList<>();
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(20);
    private static EventLoopGroup adminGroup;
    private static HashedWheelTimer adminTimer;
    private static Path binary;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(RedisProcess::stopAll, "test-redis-topologies-stop"));
    }

    final int port;
    final Path dir;
    private final Process process;

    private RedisProcess(final int port, final Path dir, final Process process) {
        this.port = port;
        this.dir = dir;
        this.process = process;
    }

    /** Writes {@code config} (plus bind, port, dir) to the node's own directory and starts it; waits for PING. */
    static RedisProcess start(final int port, final String config, final boolean sentinel,
                              final Optional<String> password) {
        try {
            Path dir = Files.createTempDirectory("compozy-test-" + (sentinel ? "sentinel-" : "node-") + port + "-");
            Path conf = dir.resolve("redis.conf");
            Files.writeString(conf, String.join("\n", "bind " + HOST, "port " + port, "dir \"" + dir + "\"",
                    "daemonize no", "logfile \"\"", "save \"\"", "appendonly no", config, ""));
            List<String> command = new ArrayList<>(List.of(binary().toString(), conf.toString()));
            if (sentinel) {
                command.add("--sentinel");
            }
            Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("redis.log").toFile()).start();
            RedisProcess node = new RedisProcess(port, dir, process);
            synchronized (RUNNING) {
                RUNNING.add(node);
            }
            await("redis-server on port " + port + " answers PING (log: " + dir.resolve("redis.log") + ")",
                    () -> process.isAlive() && answers(port, password));
            return node;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL, as a crash: no shutdown, nothing flushed. */
    void kill() {
        process.destroyForcibly();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A free loopback port whose +10000 (the cluster bus port) is free too. */
    static int freePort(final boolean withBusPort) {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
                int port = socket.getLocalPort();
                if (!withBusPort) {
                    return port;
                }
                if (port + 10_000 <= 65_535) {
                    try (ServerSocket bus = new ServerSocket(port + 10_000, 1, InetAddress.getByName(HOST))) {
                        return port;
                    } catch (IOException taken) {
                        // try another
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("no free loopback port pair for a cluster node");
    }

    /** Runs one command on the node at {@code port} and returns its reply as text. */
    static String command(final int port, final Optional<String> password, final String name, final Object... args) {
        return call(port, password, new RedisStrictCommand<String>(name), args);
    }

    static <T> T call(final int port, final Optional<String> password, final RedisCommand<T> command,
                      final Object... args) {
        RedisClientConfig config = new RedisClientConfig().setAddress(HOST, port).setConnectTimeout(2_000)
                .setCommandTimeout(5_000).setResolverGroup(DefaultAddressResolverGroup.INSTANCE);
        synchronized (RedisProcess.class) {
            if (adminGroup == null) {
                adminGroup = new NioEventLoopGroup(1, new DefaultThreadFactory("test-redis-admin", true));
                adminTimer = new HashedWheelTimer(new DefaultThreadFactory("test-redis-admin-timer", true));
            }
            config.setGroup(adminGroup).setExecutor(adminGroup).setTimer(adminTimer);
        }
        password.ifPresent(config::setPassword);
        RedisClient client = RedisClient.create(config);
        try {
            RedisConnection connection = client.connect();
            return connection.sync(StringCodec.INSTANCE, command, args);
        } finally {
            client.shutdown();
        }
    }

    static boolean answers(final int port, final Optional<String> password) {
        try {
            return "PONG".equals(command(port, password, "PING"));
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Polls {@code condition} until it holds (exceptions count as "not yet"); fails naming {@code what}. */
    static void await(final String what, final BooleanSupplier condition) {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (true) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
            } catch (RuntimeException notYet) {
                // poll again
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + READY_TIMEOUT.toSeconds() + " s waiting until "
                        + what);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting until " + what, e);
            }
        }
    }

    private static synchronized Path binary() throws IOException {
        if (binary == null) {
            binary = RedisBinary.bundled(Files.createTempDirectory("compozy-test-redis-bin-"));
        }
        return binary;
    }

    /** Stops every node this JVM started, by its PID (SIGTERM, then SIGKILL), and removes its directory. */
    private static void stopAll() {
        List<RedisProcess> nodes;
        synchronized (RUNNING) {
            nodes = List.copyOf(RUNNING);
        }
        nodes.forEach(node -> node.process.destroy());
        for (RedisProcess node : nodes) {
            try {
                if (!node.process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                    node.process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                node.process.destroyForcibly();
            }
            try (Stream<Path> files = Files.walk(node.dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                // a temp dir left behind is harmless
            }
        }
    }
}
