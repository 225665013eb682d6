package io.compozy.cache.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ConfigLookup;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.api.redisnode.RedisNodes;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.Config;

/** The real bundled redis-server, started the way standalone mode starts it. */
class EmbeddedRedisServerTest {

    @TempDir
    Path workDir;

    private EmbeddedRedisServer server;
    private final List<RedissonClient> clients = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        server = EmbeddedRedisServer.start(settings(Map.of("redis.standalone.max_memory", "64mb",
                "redis.standalone.max_memory_policy", "allkeys-lru")), task -> new Thread(task).start());
    }

    @AfterEach
    void stop() {
        try {
            clients.forEach(RedissonClient::shutdown);
        } finally {
            server.close();
        }
    }

    @Test
    void servesClientsThatKnowTheGeneratedPassword() {
        RedissonClient client = client(server.password().reveal());
        client.getBucket("k", StringCodec.INSTANCE).set("v");
        assertThat(client.getBucket("k", StringCodec.INSTANCE).get()).isEqualTo("v");
        var config = client.getRedisNodes(RedisNodes.SINGLE).getInstance().getConfig("maxmemory*");
        assertThat(config).containsEntry("maxmemory", String.valueOf(64 * 1024 * 1024))
                .containsEntry("maxmemory-policy", "allkeys-lru");
    }

    @Test
    void refusesClientsWithoutThePassword() {
        assertThatThrownBy(() -> client(null).getBucket("k", StringCodec.INSTANCE).get())
                .hasStackTraceContaining("NOAUTH");
        assertThatThrownBy(() -> client("wrong").getBucket("k", StringCodec.INSTANCE).get())
                .hasStackTraceContaining("WRONGPASS");
    }

    @Test
    void listensOnLoopbackOnlyAndKeepsNoPasswordOnDisk() throws Exception {
        String redisConfig = client(server.password().reveal()).getRedisNodes(RedisNodes.SINGLE)
                .getInstance().getConfig("bind").get("bind");
        assertThat(redisConfig).isEqualTo("127.0.0.1");
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 1000);
        }
        String password = server.password().reveal();
        try (Stream<Path> files = Files.walk(workDir)) {
            // Every file is read (an unreadable one fails the test), as bytes: binary files count too.
            assertThat(files.filter(Files::isRegularFile)
                    .filter(f -> !f.getFileName().toString().startsWith("redis-server-")).toList())
                    .isNotEmpty()
                    .allSatisfy(file -> assertThat(read(file)).as(file.toString()).doesNotContain(password));
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(workDir))).isEqualTo("rwx------");
    }

    @Test
    void closeStopsTheProcessAndRemovesItsRunDirectory() throws Exception {
        ProcessHandle redis = ProcessHandle.of(server.pid()).orElseThrow();
        server.close();
        assertThat(redis.onExit().get(5, TimeUnit.SECONDS).isAlive()).isFalse();
        try (Stream<Path> runs = Files.list(workDir)) {
            assertThat(runs.map(p -> p.getFileName().toString())).noneMatch(name -> name.startsWith("run-"));
        }
    }

    @Test
    void twoServersGetTwoPortsAndTwoPasswords() throws Exception {
        try (EmbeddedRedisServer second = EmbeddedRedisServer.start(settings(Map.of()), task -> new Thread(task).start())) {
            assertThat(second.port()).isNotEqualTo(server.port());
            assertThat(second.password().reveal()).isNotEqualTo(server.password().reveal());
        }
    }

    @Test
    void anUnusableBinaryFailsWithItsOutput() throws Exception {
        Path fake = workDir.resolve("fake-redis");
        Files.writeString(fake, "#!/bin/sh\necho 'fatal: this is not redis'\nexit 3\n");
        fake.toFile().setExecutable(true);
        assertThatThrownBy(() -> EmbeddedRedisServer.start(settings(Map.of("redis.standalone.binary", fake.toString(),
                "redis.standalone.start_timeout", "5s")), task -> new Thread(task).start()))
                .hasMessageContaining("exited before it was ready")
                .hasMessageContaining("fatal: this is not redis");
    }

    private CacheSettings.Standalone settings(final Map<String, String> extra) {
        var values = new java.util.HashMap<>(extra);
        values.put(CacheSettings.WORK_DIR, workDir.toString());
        return CacheSettings.load(ConfigLookup.of(values)).standalone();
    }

    private RedissonClient client(final String password) {
        Config config = new Config();
        config.useSingleServer().setAddress("redis://127.0.0.1:" + server.port()).setPassword(password)
                .setConnectionMinimumIdleSize(1).setConnectionPoolSize(2).setRetryAttempts(0);
        RedissonClient client = Redisson.create(config);
        clients.add(client);
        return client;
    }

    /** The file's bytes as Latin-1 text: one char per byte, so any byte sequence (the password too) is found. */
    private static String read(final Path file) {
        try {
            return new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + " to check it for the password", e);
        }
    }
}
