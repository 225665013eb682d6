package io.compozy.cache.persistence;

import static io.compozy.cache.persistence.Standalone.call;
import static io.compozy.cache.persistence.Standalone.connect;
import static io.compozy.cache.persistence.Standalone.contents;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.adapter.CacheBackend;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ImportSettings;
import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an import of a standalone store into an external Redis ({@value ImportSettings#DISTRIBUTED_DATA_DIR})
 * leaves when it does not finish: no plaintext copy of an encrypted generation is ever written, even when the
 * server dies mid-copy. Real redis-servers and a real JE store; a loopback proxy and a killed process make the
 * fault.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a hang fails
class DistributedImportFailureTest {

    @TempDir
    Path root;

    /** The external Redis the imports go into: a redis-server of its own, empty. */
    private EmbeddedRedisServer external;

    @BeforeEach
    void startExternal() throws IOException {
        external = Standalone.startPlain(root.resolve("external"));
    }

    @AfterEach
    void stopExternal() {
        external.close();
    }

    /**
     * The JVM dies in the middle of the copy (SIGKILL, while the proxy holds its RESTOREs back): no plaintext of
     * the encrypted generation is left anywhere.
     */
    @Test
    void aServerKilledMidImportLeavesNoPlaintextCopy() throws Exception {
        String canary = "plaintext-canary-" + UUID.randomUUID();
        String key = SnapshotRestoreTest.randomKey();
        Source source = standalone("encrypted", Optional.of(key), redis -> {
            call(redis, "SET", "canary", canary);
            // Values that do not compress: the copy carries more than the proxy lets through.
            call(redis, "EVAL", "for i = 1, 2000 do local v = '' for j = 1, 10 do v = v .. redis.sha1hex(i .. ':' .. j)"
                    + " end redis.call('SET', 'k:' .. i, v) end", "0");
        });
        Path tmp = Files.createDirectories(root.resolve("child-tmp"));
        try (FaultProxy proxy = FaultProxy.to(external.port()).holdRequestsBeyond(64 * 1024)) {
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                    .toString(), "-Djava.io.tmpdir=" + tmp, "-cp", System.getProperty("java.class.path"),
                    ImportMain.class.getName()));
            distributed(proxy.port(), Map.of(ImportSettings.DISTRIBUTED_DATA_DIR, source.dataDir,
                    ImportSettings.DISTRIBUTED_ENCRYPTION_KEY, key, CacheSettings.PASSWORD, external.password().reveal()))
                    .forEach((k, v) -> command.add(k + "=" + v));
            Process server = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(root.resolve("child.log").toFile()).start();
            try {
                await().atMost(Duration.ofMinutes(2)).until(() -> proxy.holdsRequests() || !server.isAlive());
                assertThat(proxy.holdsRequests()).as(Files.readString(root.resolve("child.log"))).isTrue();
            } finally {
                server.destroyForcibly().waitFor(60, TimeUnit.SECONDS);
            }
            assertThat(filesHolding(tmp, canary)).as("plaintext in java.io.tmpdir").isEmpty();
            assertThat(filesHolding(Path.of(source.dataDir), canary)).as("plaintext in data_dir").isEmpty();
            await().atMost(Duration.ofMinutes(1)).until(proxy::idle);
        }
    }

    /** A standalone server's store, with what it held when it stopped. */
    private record Source(String dataDir, Map<String, Object> contents) {
    }

    private Source standalone(final String name, final Optional<String> key, final Consumer<ControlConnection> fill) {
        Map<String, String> values = new HashMap<>(Map.of("redis.mode", "standalone",
                CacheSettings.WORK_DIR, root.resolve(name + "-work").toString(),
                PersistenceSettings.ENABLED, "true",
                PersistenceSettings.DATA_DIR, root.resolve(name + "-data").toString()));
        key.ifPresent(k -> values.put(PersistenceSettings.ENCRYPTION_KEY, k));
        try (CacheBackend standalone = start(values);
             ControlConnection redis = connect(standalone.embeddedServer().orElseThrow())) {
            fill.accept(redis);
            return new Source(values.get(PersistenceSettings.DATA_DIR), contents(redis));
        } // stopping it takes the final snapshot
    }

    private static Map<String, String> distributed(final int port, final Map<String, String> extra) {
        Map<String, String> values = new HashMap<>(Map.of("redis.mode", "distributed",
                CacheSettings.ADDR, "redis://127.0.0.1:" + port + "/0"));
        values.putAll(extra);
        return values;
    }

    /** Starts a backend; a distributed one on the external Redis gets its password unless the test gave one. */
    private CacheBackend start(final Map<String, String> values) {
        Map<String, String> all = new HashMap<>(values);
        if ("distributed".equals(all.get("redis.mode"))) {
            all.putIfAbsent(CacheSettings.PASSWORD, external.password().reveal());
        }
        return Standalone.startBackend(all);
    }

    /** Files under {@code dir} whose bytes contain {@code text}. */
    private static List<Path> filesHolding(final Path dir, final String text) throws IOException {
        byte[] needle = text.getBytes(StandardCharsets.UTF_8);
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).filter(file -> contains(read(file), needle)).toList();
        }
    }

    private static byte[] read(final Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean contains(final byte[] haystack, final byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
