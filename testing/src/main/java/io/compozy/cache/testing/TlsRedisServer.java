package io.compozy.cache.testing;

import io.compozy.cache.embedded.RedisBinary;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A redis-server that speaks TLS only ({@code --port 0 --tls-port P}) on a free loopback port, with a
 * password, the server certificate given, and optionally {@code tls-auth-clients yes}. It runs the
 * adapter's bundled redis-server (statically linked with OpenSSL, so no Redis is needed on the machine),
 * and is stopped by its PID.
 */
public final class TlsRedisServer implements AutoCloseable {

    public static final String HOST = "127.0.0.1";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(20);

    private final Process process;
    private final int port;
    private final String password;
    private final Path dir;

    private TlsRedisServer(final Process process, final int port, final String password, final Path dir) {
        this.process = process;
        this.port = port;
        this.password = password;
        this.dir = dir;
    }

    /**
     * Starts the server and returns once it accepts connections.
     *
     * @param cert the certificate it presents, {@code key} its key
     * @param clientCa the CA whose client certificates it accepts (also sent as its chain's issuer)
     * @param requireClientCertificate {@code tls-auth-clients yes} when true, {@code no} otherwise
     */
    public static TlsRedisServer start(final Path cert, final Path key, final Path clientCa,
                                       final boolean requireClientCertificate) {
        try {
            Path dir = Files.createTempDirectory("compozy-test-tls-redis-");
            Path binary = RedisBinary.bundled(dir);
            byte[] random = new byte[24];
            new SecureRandom().nextBytes(random);
            String password = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
            int port = freeLoopbackPort();
            Path log = dir.resolve("redis.log");
            Process process = new ProcessBuilder(List.of(binary.toString(),
                    "--bind", HOST, "--port", "0", "--tls-port", Integer.toString(port),
                    "--tls-cert-file", cert.toString(), "--tls-key-file", key.toString(),
                    "--tls-ca-cert-file", clientCa.toString(),
                    "--tls-auth-clients", requireClientCertificate ? "yes" : "no",
                    "--requirepass", password, "--save", "", "--appendonly", "no", "--dir", dir.toString()))
                    .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            TlsRedisServer server = new TlsRedisServer(process, port, password, dir);
            Runtime.getRuntime().addShutdownHook(new Thread(server::close, "test-tls-redis-stop"));
            server.awaitReady(log);
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String host() {
        return HOST;
    }

    public int port() {
        return port;
    }

    public String password() {
        return password;
    }

    public long pid() {
        return process.pid();
    }

    /** The address for redis.addr: {@code rediss://127.0.0.1:P/db}, without credentials. */
    public String address(final int database) {
        return "rediss://" + HOST + ":" + port + "/" + database;
    }

    /** The same server under its DNS name, {@code localhost}, which its certificate also names. */
    public String addressByName(final int database) {
        return "rediss://localhost:" + port + "/" + database;
    }

    /** Stops the server by its PID: SIGTERM, then SIGKILL after a grace period. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }

    private void awaitReady(final Path log) throws IOException {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            String output = Files.readString(log, StandardCharsets.UTF_8);
            if (output.contains("Ready to accept connections")) {
                return;
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("redis-server with TLS exited at start: " + output);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IllegalStateException("interrupted while redis-server started", e);
            }
        }
        close();
        throw new IllegalStateException("redis-server with TLS was not ready within " + READY_TIMEOUT + ": "
                + Files.readString(log, StandardCharsets.UTF_8));
    }

    private static int freeLoopbackPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            return socket.getLocalPort();
        }
    }

    @Override
    public String toString() {
        return "redis-server with TLS on " + HOST + ":" + port + " (pid " + process.pid() + ", " + dir + ")";
    }
}
