package io.compozy.cache.persistence;

import static io.compozy.cache.persistence.Standalone.IMPORT_MARKER;
import static io.compozy.cache.persistence.Standalone.call;
import static io.compozy.cache.persistence.Standalone.connect;
import static io.compozy.cache.persistence.Standalone.contents;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
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
 * leaves when it does not finish, and what the next start does with it, as docs/migration.md promises: a
 * partial copy is refused at every start (with the key set or not) until the operator empties the Redis, a
 * finished import is not redone, an import under way on another server is named and never advised away, and
 * no plaintext copy of an encrypted generation is ever written. Real redis-servers and a real JE store; a
 * loopback proxy or a killed process makes the fault.
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

    @Test
    void anImportThatFailsPartWayIsRefusedAtEveryStartUntilEmptiedAndOnceFinishedIsNotRedone() throws Exception {
        Source source = standalone("source", Optional.empty(), redis -> {
            for (int i = 0; i < 40; i++) {
                call(redis, "SET", "big:" + i, "value " + i);
            }
        });
        try (ControlConnection redis = connect(external)) {
            // An account that may write only some of the keys: the import fails part-way, the Redis stays writable.
            call(redis, "ACL", "SETUSER", "importer", "on", ">importer-secret", "~big:[01]*", "~__compozy_internal__:*",
                    "&*", "+@all");
        }
        Map<String, String> importing = distributed(external.port(), Map.of(CacheSettings.USERNAME, "importer",
                CacheSettings.PASSWORD, "importer-secret", ImportSettings.DISTRIBUTED_DATA_DIR, source.dataDir));
        assertThatThrownBy(() -> start(importing)).isInstanceOf(CacheBackend.BackendStartException.class)
                .hasMessageContaining("key 'big:");
        try (ControlConnection redis = connect(external)) {
            assertThat(Standalone.dataKeys(redis)).as("a partial copy: big:0, big:1, big:10 to big:19").hasSize(12);
            call(redis, "ACL", "SETUSER", "importer", "allkeys"); // the cause is fixed; the partial copy stays
        }

        // The next start, with the import key or without it, serves nothing of it and says what to do.
        assertThatThrownBy(() -> start(importing)).isInstanceOf(CacheBackend.BackendStartException.class)
                .hasMessageContaining("marker key '" + IMPORT_MARKER + "'")
                .hasMessageContaining("failed").hasMessageContaining("partial copy, which is not served")
                .hasMessageContaining("FLUSHDB").hasMessageContaining("DEL " + IMPORT_MARKER);
        Map<String, String> plain = distributed(external.port(), Map.of(CacheSettings.USERNAME, "importer",
                CacheSettings.PASSWORD, "importer-secret"));
        assertThatThrownBy(() -> start(plain)).isInstanceOf(CacheBackend.BackendStartException.class)
                .hasMessageContaining("Not serving the Redis at").hasMessageContaining("partial copy");

        // The operator's remedy, then the import runs again, whole.
        try (ControlConnection redis = connect(external)) {
            assertThat(Standalone.dataKeys(redis)).as("nothing was written by the refused starts").hasSize(12);
            call(redis, "FLUSHDB");
        }
        start(importing).close();
        try (ControlConnection redis = connect(external)) {
            assertThat(contents(redis)).isEqualTo(source.contents);
            assertThat(marker(redis)).containsEntry("state", "done").containsEntry("keys", "40")
                    .containsEntry("source", source.dataDir);
            for (String key : Standalone.dataKeys(redis)) {
                call(redis, "DEL", key); // the applications deleted every imported key
            }
        }
        start(importing).close();
        try (ControlConnection redis = connect(external)) {
            assertThat(Standalone.dataKeys(redis)).as("a finished import is never redone").isEmpty();
        }
    }

    /**
     * The JVM dies in the middle of the copy (SIGKILL, while the proxy holds its RESTOREs back): no plaintext of
     * the encrypted generation is left anywhere, and the partial copy is refused at the next start.
     */
    @Test
    void aServerKilledMidImportLeavesNoPlaintextCopyAndItsPartialCopyIsRefused() throws Exception {
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
        try (ControlConnection redis = connect(external)) {
            // Redis has dropped the dead server's connections (only this one is left).
            await().atMost(Duration.ofMinutes(1)).until(() -> ((String) call(redis, "CLIENT", "LIST")).strip().lines()
                    .count() == 1);
            assertThat(Standalone.dataKeys(redis)).as("a partial copy").isNotEmpty();
        }
        assertThatThrownBy(() -> start(distributed(external.port(), Map.of(ImportSettings.DISTRIBUTED_DATA_DIR,
                source.dataDir, ImportSettings.DISTRIBUTED_ENCRYPTION_KEY, key))))
                .isInstanceOf(CacheBackend.BackendStartException.class)
                .hasMessageContaining("marker key '" + IMPORT_MARKER + "'")
                .hasMessageContaining("partial copy, which is not served").hasMessageContaining("FLUSHDB");
    }

    /** The loser of two servers importing into one Redis must not be told to empty it under the winner. */
    @Test
    void anImportUnderWayOnAnotherServerIsNamedAndNothingIsAdvisedThatWouldDestroyIt() throws Exception {
        Source source = standalone("source", Optional.empty(), redis -> call(redis, "SET", "ours", "1"));
        Map<String, String> importing = distributed(external.port(), Map.of(ImportSettings.DISTRIBUTED_DATA_DIR,
                source.dataDir));
        try (ControlConnection other = connect(external)) {
            // Another server, importing now: its marker, its named connection, the keys it copied so far.
            call(other, "CLIENT", "SETNAME", "compozy-import-0123456789abcdef");
            call(other, "HSET", IMPORT_MARKER, "state", "importing", "source", "/srv/other/data", "generation", "3",
                    "taken_at", "2026-12-01T10:00:00Z", "server", "other-host pid 4242",
                    "connection", "compozy-import-0123456789abcdef", "started_at", "2026-12-01T10:05:00Z");
            call(other, "SET", "theirs", "copied so far");

            assertThatThrownBy(() -> start(importing)).isInstanceOf(CacheBackend.BackendStartException.class)
                    .hasMessageContaining("another server is importing into this Redis now")
                    .hasMessageContaining("other-host pid 4242").hasMessageContaining("/srv/other/data")
                    .hasMessageContaining("Start this server again once that import is done")
                    .message().doesNotContain("FLUSHDB").doesNotContain("FLUSHALL").doesNotContain("DEL ");
            assertThat(call(other, "EXISTS", "ours")).as("nothing was written").isEqualTo(0L);

            call(other, "HSET", IMPORT_MARKER, "state", "done", "finished_at", "2026-12-01T10:06:00Z", "keys", "1");
        }
        start(importing).close();
        try (ControlConnection redis = connect(external)) {
            assertThat(contents(redis)).as("the finished import is served, not imported into")
                    .isEqualTo(Map.of("theirs", "string=copied so far"));
        }
    }

    /**
     * Two servers with copies of one store start at once against one empty Redis: one imports, the other
     * either finds that import under way (and says so, advising nothing destructive) or finds it done.
     */
    @Test
    void twoServersStartingAtOnceImportOnceAndTheOtherNeverAdvisesEmptyingTheRedis() throws Exception {
        Source source = standalone("source", Optional.empty(), redis -> call(redis, "EVAL",
                "for i = 1, 20000 do redis.call('SET', 'k:' .. i, string.rep('v', 100) .. i) end", "0"));
        Path copy = root.resolve("copy-data");
        copyDirectory(Path.of(source.dataDir), copy);
        CyclicBarrier together = new CyclicBarrier(2);
        List<CompletableFuture<CacheBackend>> servers = new ArrayList<>();
        for (String dataDir : List.of(source.dataDir, copy.toString())) {
            Map<String, String> config = distributed(external.port(), Map.of(ImportSettings.DISTRIBUTED_DATA_DIR,
                    dataDir));
            servers.add(CompletableFuture.supplyAsync(() -> {
                try {
                    together.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                return start(config);
            }));
        }
        List<Throwable> refusals = new ArrayList<>();
        int started = 0;
        for (CompletableFuture<CacheBackend> server : servers) {
            try {
                server.get(5, TimeUnit.MINUTES).close();
                started++;
            } catch (java.util.concurrent.ExecutionException e) {
                refusals.add(e.getCause());
            }
        }
        for (Throwable refusal : refusals) {
            assertThat(refusal).isInstanceOf(CacheBackend.BackendStartException.class)
                    .hasMessageContaining("another server is importing into this Redis now")
                    .message().doesNotContain("FLUSHDB").doesNotContain("FLUSHALL").doesNotContain("DEL ");
        }
        assertThat(started).as("one imported; %s", refusals).isPositive();
        try (ControlConnection redis = connect(external)) {
            assertThat(contents(redis)).isEqualTo(source.contents);
            assertThat(marker(redis)).containsEntry("state", "done").containsEntry("keys", "20000");
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

    private static Map<String, String> marker(final ControlConnection redis) {
        List<String> flat = Standalone.strings(call(redis, "HGETALL", IMPORT_MARKER));
        Map<String, String> fields = new HashMap<>();
        for (int i = 0; i + 1 < flat.size(); i += 2) {
            fields.put(flat.get(i), flat.get(i + 1));
        }
        return fields;
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

    private static void copyDirectory(final Path from, final Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path path : paths.toList()) {
                Path target = to.resolve(from.relativize(path).toString());
                if (Files.isDirectory(path)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(path, target);
                }
            }
        }
    }
}
