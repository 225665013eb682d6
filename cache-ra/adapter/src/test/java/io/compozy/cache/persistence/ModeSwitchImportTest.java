package io.compozy.cache.persistence;

import static io.compozy.cache.persistence.Standalone.call;
import static io.compozy.cache.persistence.Standalone.connect;
import static io.compozy.cache.persistence.Standalone.contents;
import static io.compozy.cache.persistence.Standalone.expiries;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.adapter.CacheBackend;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ConfigLookup;
import io.compozy.cache.config.ImportSettings;
import io.compozy.cache.config.InvalidConfigurationException;
import io.compozy.cache.config.Mode;
import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import io.compozy.cache.migration.DataImport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Switching the mode with the data, by configuration alone: a standalone server's snapshot store into an
 * empty external Redis, and that Redis back into a new standalone server, every type and every absolute
 * expiry equal at each step, encrypted or not. The "external Redis" is a real redis-server of its own.
 */
class ModeSwitchImportTest {

    @TempDir
    Path root;

    private EmbeddedRedisServer external;

    @AfterEach
    void stopExternal() {
        if (external != null) {
            external.close();
        }
    }

    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void standaloneToDistributedAndBackKeepsEveryKeyAndExpiry(final boolean encrypted) throws Exception {
        Optional<String> key = encrypted ? Optional.of(SnapshotRestoreTest.randomKey()) : Optional.empty();
        Map<String, String> first = standalone("first", key);

        // A standalone server with data; stopping it takes the final snapshot.
        Map<String, Object> source;
        Map<String, Long> sourceExpiries;
        long goneAt;
        CacheBackend standalone = start(first);
        try (ControlConnection redis = connect(standalone.embeddedServer().orElseThrow())) {
            Standalone.fillEveryType(redis, "");
            call(redis, "SET", "expires:soon", "gone before the import", "PX", "1000");
            goneAt = System.currentTimeMillis() + 1000;
            source = contents(redis);
            sourceExpiries = expiries(redis);
            source.remove("expires:soon");
            sourceExpiries.remove("expires:soon");
        } finally {
            standalone.close();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> System.currentTimeMillis() > goneAt + 50);

        // Distributed on an empty Redis, importing the store.
        external = Standalone.startPlain(root.resolve("external"));
        Map<String, String> distributed = distributed(Map.of(ImportSettings.DISTRIBUTED_DATA_DIR,
                first.get(PersistenceSettings.DATA_DIR)));
        key.ifPresent(k -> distributed.put(ImportSettings.DISTRIBUTED_ENCRYPTION_KEY, k));
        start(distributed).close();
        try (ControlConnection redis = connect(external)) {
            assertThat(contents(redis)).isEqualTo(source);
            assertThat(expiries(redis)).as("absolute expiries, and the expired key skipped").isEqualTo(sourceExpiries);
            call(redis, "DEL", "string"); // a change after the import...
        }
        start(distributed).close();
        try (ControlConnection redis = connect(external)) {
            assertThat(call(redis, "EXISTS", "string")).as("...is kept: a non-empty Redis is never imported into")
                    .isEqualTo(0L);
            call(redis, "SET", "string", "hello");
        }

        // Back to standalone on a new data_dir, importing that Redis.
        Map<String, String> back = standalone("back", key);
        back.put(ImportSettings.STANDALONE_FROM, "redis://127.0.0.1:" + external.port());
        back.put(ImportSettings.STANDALONE_PASSWORD, external.password().reveal());
        CacheBackend again = start(back);
        try (ControlConnection redis = connect(again.embeddedServer().orElseThrow())) {
            assertThat(contents(redis)).isEqualTo(source);
            assertThat(expiries(redis)).isEqualTo(sourceExpiries);
            assertThat(again.persistence().orElseThrow().generations()).as("the first snapshot").hasSize(1);
        } finally {
            again.close();
        }
        try (ControlConnection redis = connect(external)) {
            call(redis, "SET", "written:after", "not imported");
        }
        CacheBackend restarted = start(back);
        try (ControlConnection redis = connect(restarted.embeddedServer().orElseThrow())) {
            assertThat(contents(redis)).as("the second start restores its snapshot, it does not import again")
                    .isEqualTo(source);
        } finally {
            restarted.close();
        }
    }

    @Test
    void aSourceThatRefusesReplicationIsCopiedWithScanAndDump() throws Exception {
        external = Standalone.startPlain(root.resolve("external"));
        Map<String, Object> source;
        Map<String, Long> sourceExpiries;
        try (ControlConnection redis = connect(external)) {
            Standalone.fillEveryType(redis, "");
            source = contents(redis);
            sourceExpiries = expiries(redis);
            // A managed Redis's kind of account: everything but replication.
            call(redis, "ACL", "SETUSER", "importer", "on", ">importer-secret", "~*", "&*", "+@all", "-sync", "-psync");
        }
        Map<String, String> back = standalone("scan", Optional.empty());
        back.put(ImportSettings.STANDALONE_FROM, "redis://127.0.0.1:" + external.port());
        back.put(ImportSettings.STANDALONE_USERNAME, "importer");
        back.put(ImportSettings.STANDALONE_PASSWORD, "importer-secret");
        CacheBackend standalone = start(back);
        try (ControlConnection redis = connect(standalone.embeddedServer().orElseThrow())) {
            assertThat(contents(redis)).isEqualTo(source);
            assertThat(expiries(redis)).isEqualTo(sourceExpiries);
        } finally {
            standalone.close();
        }
    }

    /**
     * The product uses database 0 of its embedded server, and a replication stream carries every database: keys
     * of the others must neither land in database 0 (where a same-named key would collide or be shadowed) nor
     * vanish unmentioned.
     */
    @Test
    void onlyDatabaseZeroIsCopiedAndTheOthersAreNamedInAWarning() throws Exception {
        external = Standalone.startPlain(root.resolve("external"));
        try (ControlConnection redis = connect(external)) {
            call(redis, "SET", "same-name", "from database 0");
            call(redis, "SELECT", "3");
            call(redis, "SET", "same-name", "from database 3");
            call(redis, "SET", "only-in-3", "x");
            call(redis, "SELECT", "0");
        }
        List<String> warnings = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(final LogRecord record) {
                if (record.getLevel() == Level.WARNING) {
                    warnings.add(record.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger importLog = Logger.getLogger(DataImport.class.getName());
        importLog.addHandler(capture);
        Map<String, String> back = standalone("databases", Optional.empty());
        back.put(ImportSettings.STANDALONE_FROM, "redis://127.0.0.1:" + external.port());
        back.put(ImportSettings.STANDALONE_PASSWORD, external.password().reveal());
        CacheBackend standalone;
        try {
            standalone = start(back);
        } finally {
            importLog.removeHandler(capture);
        }
        try (ControlConnection redis = connect(standalone.embeddedServer().orElseThrow())) {
            assertThat(contents(redis)).isEqualTo(Map.of("same-name", "string=from database 0"));
        } finally {
            standalone.close();
        }
        assertThat(warnings).anySatisfy(w -> assertThat(w).contains("database 3 (2 keys)")
                .contains("only database 0 is copied"));
    }

    @Test
    void aFailedImportStopsTheStartAndSaysWhy() throws Exception {
        external = Standalone.startPlain(root.resolve("external"));
        Map<String, String> back = standalone("wrong", Optional.empty());
        back.put(ImportSettings.STANDALONE_FROM, "redis://127.0.0.1:" + external.port());
        back.put(ImportSettings.STANDALONE_PASSWORD, "not-the-password");
        assertThatThrownBy(() -> start(back)).isInstanceOf(CacheBackend.BackendStartException.class)
                .hasMessageContaining("Import from redis://127.0.0.1:" + external.port())
                .hasMessageContaining(ImportSettings.STANDALONE_FROM)
                .message().doesNotContain("not-the-password").doesNotContain(external.password().reveal())
                .doesNotContainIgnoringCase(java.util.HexFormat.of().formatHex(java.security.MessageDigest
                        .getInstance("SHA-256").digest("not-the-password".getBytes(java.nio.charset.StandardCharsets.UTF_8))));

        Map<String, String> encrypted = standalone("locked", Optional.of(SnapshotRestoreTest.randomKey()));
        CacheBackend locked = start(encrypted);
        try (ControlConnection redis = connect(locked.embeddedServer().orElseThrow())) {
            call(redis, "SET", "k", "v");
        } finally {
            locked.close();
        }
        Map<String, String> noKey = distributed(Map.of(ImportSettings.DISTRIBUTED_DATA_DIR,
                encrypted.get(PersistenceSettings.DATA_DIR)));
        assertThatThrownBy(() -> start(noKey)).isInstanceOf(CacheBackend.BackendStartException.class)
                .hasMessageContaining("is encrypted and " + ImportSettings.DISTRIBUTED_ENCRYPTION_KEY);
        try (ControlConnection redis = connect(external)) {
            assertThat(Standalone.dbsize(redis)).as("nothing was written").isZero();
        }
    }

    @Test
    void aKeyTheTargetRefusesIsNamedAndNothingIsSnapshotted() throws Exception {
        external = Standalone.startPlain(root.resolve("external"));
        try (ControlConnection redis = connect(external)) {
            for (int i = 0; i < 40; i++) {
                call(redis, "SET", "big:" + i, "x".repeat(100_000) + i);
            }
        }
        Map<String, String> small = standalone("small", Optional.empty());
        small.put(CacheSettings.MAX_MEMORY, "2mb"); // the embedded server refuses writes beyond it
        small.put(ImportSettings.STANDALONE_FROM, "redis://127.0.0.1:" + external.port());
        small.put(ImportSettings.STANDALONE_PASSWORD, external.password().reveal());
        assertThatThrownBy(() -> start(small)).isInstanceOf(CacheBackend.BackendStartException.class)
                .hasMessageContaining("key 'big:").hasMessageContaining("maxmemory")
                .hasMessageContaining("No snapshot was taken, so the next start imports again");
        try (SnapshotManager store = SnapshotManager.open(CacheSettings.load(ConfigLookup.of(small)).standalone()
                .persistence())) {
            assertThat(store.generations()).isEmpty();
        }
    }

    /**
     * With the shipped aof=everysec: a failed import leaves nothing on disk (the AOF is off until the first
     * snapshot holds the copy), so the next start really imports again instead of failing on the partial keys.
     */
    @Test
    void withTheAppendOnlyFileOnAFailedImportIsDoneAgainByTheNextStart() throws Exception {
        external = Standalone.startPlain(root.resolve("external"));
        Map<String, Object> source;
        try (ControlConnection redis = connect(external)) {
            for (int i = 0; i < 40; i++) {
                call(redis, "SET", "big:" + i, "x".repeat(100_000) + i);
            }
            source = contents(redis);
        }
        Map<String, String> small = standalone("aof", Optional.empty());
        small.put(PersistenceSettings.AOF, "everysec");
        small.put(CacheSettings.MAX_MEMORY, "2mb"); // the copy fails part-way: some keys are in, most are not
        small.put(ImportSettings.STANDALONE_FROM, "redis://127.0.0.1:" + external.port());
        small.put(ImportSettings.STANDALONE_PASSWORD, external.password().reveal());
        assertThatThrownBy(() -> start(small)).isInstanceOf(CacheBackend.BackendStartException.class)
                .hasMessageContaining("maxmemory").hasMessageContaining("the next start imports again");
        assertThat(Path.of(small.get(PersistenceSettings.DATA_DIR)).resolve(PersistenceSettings.AOF_HOME)
                .resolve(EmbeddedRedisServer.AOF_DIR)).as("no append-only file holds the partial copy").doesNotExist();

        small.remove(CacheSettings.MAX_MEMORY);
        CacheBackend again = start(small);
        try (ControlConnection redis = connect(again.embeddedServer().orElseThrow())) {
            assertThat(contents(redis)).as("the next start imported everything").isEqualTo(source);
            assertThat(again.persistence().orElseThrow().appendOnly()).hasValueSatisfying(aof ->
                    assertThat(aof.loadedFrom()).contains("an import from redis://127.0.0.1:" + external.port()));
        } finally {
            again.close();
        }
        CacheBackend restarted = start(small);
        try (ControlConnection redis = connect(restarted.embeddedServer().orElseThrow())) {
            assertThat(contents(redis)).as("then the AOF holds it: a finished import is not redone").isEqualTo(source);
        } finally {
            restarted.close();
        }
    }

    @Test
    void importingIntoTheEmbeddedServerNeedsPersistence() {
        Map<String, String> values = new HashMap<>(Map.of("redis.mode", "standalone",
                ImportSettings.STANDALONE_FROM, "redis://127.0.0.1:6379"));
        ConfigLookup config = ConfigLookup.of(values);
        CacheSettings settings = CacheSettings.load(config);
        assertThatThrownBy(() -> ImportSettings.load(config, Mode.STANDALONE, settings.standalone().persistence()))
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining(ImportSettings.STANDALONE_FROM)
                .hasMessageContaining(PersistenceSettings.ENABLED + "=true");
    }

    private Map<String, String> standalone(final String name, final Optional<String> key) {
        Map<String, String> values = new HashMap<>(Map.of(
                "redis.mode", "standalone",
                CacheSettings.WORK_DIR, root.resolve(name + "-work").toString(),
                PersistenceSettings.ENABLED, "true",
                PersistenceSettings.DATA_DIR, root.resolve(name + "-data").toString()));
        key.ifPresent(k -> values.put(PersistenceSettings.ENCRYPTION_KEY, k));
        return values;
    }

    private Map<String, String> distributed(final Map<String, String> extra) {
        Map<String, String> values = new HashMap<>(Map.of(
                "redis.mode", "distributed",
                CacheSettings.ADDR, "redis://127.0.0.1:" + external.port() + "/0",
                CacheSettings.PASSWORD, external.password().reveal()));
        values.putAll(extra);
        return values;
    }

    private static CacheBackend start(final Map<String, String> values) {
        ConfigLookup config = ConfigLookup.of(values);
        CacheSettings settings = CacheSettings.load(config);
        return CacheBackend.start(settings, ImportSettings.load(config, settings.mode(),
                settings.standalone().persistence()), Standalone.PUMP);
    }
}
