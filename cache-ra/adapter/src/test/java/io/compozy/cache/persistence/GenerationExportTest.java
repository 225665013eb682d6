package io.compozy.cache.persistence;

import static io.compozy.cache.persistence.Standalone.call;
import static io.compozy.cache.persistence.Standalone.connect;
import static io.compozy.cache.persistence.Standalone.contents;
import static io.compozy.cache.persistence.Standalone.expiries;
import static org.assertj.core.api.Assertions.assertThat;

import com.sleepycat.je.DatabaseEntry;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import io.compozy.cache.tools.SnapshotTool;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A generation out as a plain RDB file through the offline command: a redis-server started on the file holds
 * the same keys, values and absolute expiries as the server the snapshot was taken of.
 */
class GenerationExportTest {

    @TempDir
    Path root;

    @Test
    void theNewestGenerationExportsToAnRdbThatRedisLoadsAsItWas() throws Exception {
        CacheSettings.Standalone settings = Standalone.settings(root);
        Captured source = snapshotEveryType(settings);

        Result list = tool(null, "list", "--data-dir", dataDir());
        assertThat(list.status).isZero();
        assertThat(list.out).contains("generation").containsPattern("(?m)^\\s+1\\s");

        Path rdb = root.resolve("export.rdb");
        Result export = tool(null, "export", "--data-dir", dataDir(), "--out", rdb.toString());
        assertThat(export.status).as(export.err).isZero();
        assertThat(export.out).contains("Exported generation 1").contains("SHA-256 checked");
        // A standard RDB file (Redis 7.0 writes format 10), private to its owner like the store.
        assertThat(new String(Files.readAllBytes(rdb), 0, 9, StandardCharsets.US_ASCII)).isEqualTo("REDIS0010");
        assertThat(Files.getPosixFilePermissions(rdb)).isEqualTo(io.compozy.cache.embedded.PrivateDirectory.FILE);

        assertLoadsAs(rdb, source, settings);
    }

    @Test
    void anEncryptedGenerationExportsDecryptedWithTheKeyAndNotWithoutIt() throws Exception {
        String key = SnapshotRestoreTest.randomKey();
        CacheSettings.Standalone settings = Standalone.settings(root, Map.of(PersistenceSettings.ENCRYPTION_KEY, key));
        Captured source = snapshotEveryType(settings);
        Path rdb = root.resolve("export.rdb");

        Result noKey = tool(null, "export", "--data-dir", dataDir(), "--out", rdb.toString());
        assertThat(noKey.status).isEqualTo(1);
        assertThat(noKey.err).contains("is encrypted but " + PersistenceSettings.ENCRYPTION_KEY + " is not set");
        assertThat(rdb).doesNotExist();

        Result wrongKey = tool(SnapshotRestoreTest.randomKey(), "export", "--data-dir", dataDir(), "--out",
                rdb.toString());
        assertThat(wrongKey.status).isEqualTo(1);
        assertThat(wrongKey.err).contains(PersistenceSettings.ENCRYPTION_KEY + " does not match");
        assertThat(rdb).doesNotExist();

        Path keyFile = root.resolve("key");
        Files.writeString(keyFile, key);
        Result export = tool(null, "export", "--data-dir", dataDir(), "--out", rdb.toString(), "--key-file",
                keyFile.toString());
        assertThat(export.status).as(export.err).isZero();
        assertThat(export.out + export.err).doesNotContain(key);
        assertLoadsAs(rdb, source, settings);
    }

    @Test
    void aNamedGenerationExportsThatGenerationAndAnUnknownOneIsNamed() throws Exception {
        CacheSettings.Standalone settings = Standalone.settings(root);
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
             EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            call(redis, "SET", "version", "first");
            manager.snapshot().orElseThrow();
            call(redis, "SET", "version", "second");
            manager.snapshot().orElseThrow();
        }
        // The final snapshot was not taken (snapshotOnShutdown not called): generations 1 and 2.
        Path rdb = root.resolve("first.rdb");
        assertThat(tool(null, "export", "--data-dir", dataDir(), "--generation", "1", "--out", rdb.toString()).status)
                .isZero();
        try (EmbeddedRedisServer server = startOn(rdb, settings); ControlConnection redis = connect(server)) {
            assertThat(call(redis, "GET", "version")).isEqualTo("first");
        }
        Result unknown = tool(null, "export", "--data-dir", dataDir(), "--generation", "7", "--out",
                root.resolve("none.rdb").toString());
        assertThat(unknown.status).isEqualTo(1);
        assertThat(unknown.err).contains("Generation 7 is not stored").contains("[2, 1]");
        assertThat(root.resolve("none.rdb")).doesNotExist();
    }

    @Test
    void aCorruptGenerationIsRefusedAndNoFileIsLeft() throws Exception {
        CacheSettings.Standalone settings = Standalone.settings(root);
        snapshotEveryType(settings);
        try (SnapshotStore store = SnapshotStore.open(root.resolve("data"), Optional.empty())) {
            store.chunksDatabase().put(null, new DatabaseEntry(GenerationFormat.chunkKey(1, 0)),
                    new DatabaseEntry(new byte[] {'R', 'E', 'D', 'I', 'S'}));
        }
        Path rdb = root.resolve("export.rdb");
        Result export = tool(null, "export", "--data-dir", dataDir(), "--out", rdb.toString());
        assertThat(export.status).isEqualTo(1);
        assertThat(export.err).contains("generation 1 is corrupt");
        assertThat(rdb).doesNotExist();
    }

    @Test
    void wrongUsageAndAMissingDirectoryAreSaidPlainly() {
        assertThat(tool(null).status).isEqualTo(2);
        assertThat(tool(null, "export", "--data-dir", dataDir()).err).contains("usage:");
        Result missing = tool(null, "list", "--data-dir", root.resolve("nowhere").toString());
        assertThat(missing.status).isEqualTo(1);
        assertThat(missing.err).contains("is not a directory");
        assertThat(root.resolve("nowhere")).doesNotExist();
    }

    /** What the source server held when the snapshot was taken. */
    private record Captured(Map<String, Object> contents, Map<String, Long> expiries) {
    }

    private Captured snapshotEveryType(final CacheSettings.Standalone settings) throws Exception {
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
             EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            Standalone.fillEveryType(redis, "");
            Captured captured = new Captured(contents(redis), expiries(redis));
            manager.snapshot().orElseThrow();
            return captured;
        }
    }

    private static void assertLoadsAs(final Path rdb, final Captured source, final CacheSettings.Standalone settings)
            throws Exception {
        try (EmbeddedRedisServer server = startOn(rdb, settings); ControlConnection redis = connect(server)) {
            assertThat(contents(redis)).isEqualTo(source.contents);
            assertThat(expiries(redis)).isEqualTo(source.expiries);
        }
    }

    /** A redis-server that loads the file natively at start, as any Redis given it as its dbfilename. */
    private static EmbeddedRedisServer startOn(final Path rdb, final CacheSettings.Standalone settings)
            throws Exception {
        return EmbeddedRedisServer.start(settings, Standalone.PUMP, Optional.of(file -> Files.copy(rdb, file,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING)));
    }

    private String dataDir() {
        return root.resolve("data").toString();
    }

    private record Result(int status, String out, String err) {
    }

    private static Result tool(final String keyFromEnv, final String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = SnapshotTool.run(args, keyFromEnv, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
