package io.compozy.cache.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ConfigLookup;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bundled redis-server as the adapter finds it: the one its provenance vouches for, or none. */
class RedisBinaryTest {

    private static final String PLATFORM = "linux-amd64";
    private static final String DIR = RedisBinary.PATCHED_DIR + PLATFORM + "/";

    @TempDir
    Path workDir;

    @BeforeEach
    void onlyWhereThePatchedBuildShips() {
        assumeTrue(RedisBinary.platform().equals(PLATFORM), "the patched build ships for " + PLATFORM + " only");
    }

    @Test
    void theShippedBinaryIsTheOneItsProvenanceRecords() throws Exception {
        Properties provenance = provenance();
        byte[] shipped = resource(DIR + "redis-server");

        assertThat(RedisBinary.sha256(shipped)).isEqualTo(provenance.getProperty("sha256"));
        assertThat(shipped).hasSize(Integer.parseInt(provenance.getProperty("size")));
        assertThat(provenance.getProperty("description")).matches("7\\.0\\.15 with Debian security fixes deb12u\\d+");
        assertThat(provenance.getProperty("patches").split(","))
                .contains("0006-CVE-2025-32023.patch", "CVE-2025-49844.patch", "CVE-2026-25243.patch");
        assertThat(provenance.getProperty("runtest.summary")).contains(" 0 failed");

        RedisBinary binary = RedisBinary.select(Optional.empty(), workDir);
        assertThat(binary.origin()).isEqualTo(RedisBinary.Origin.PATCHED_BUILD);
        assertThat(binary.description()).isEqualTo(provenance.getProperty("description"));
        assertThat(RedisBinary.sha256(binary.path())).isEqualTo(provenance.getProperty("sha256"));
        assertThat(RedisBinary.versionLine(binary.path())).startsWith("Redis server v=7.0.15 ");
    }

    @Test
    void aBinaryChangedAfterExtractionIsRefusedAtStartNamingTheFile() throws Exception {
        try (EmbeddedRedisServer first = EmbeddedRedisServer.start(settings(), task -> new Thread(task).start())) {
            assertThat(first.binaryDescription()).startsWith("7.0.15 with Debian security fixes deb12u");
        }
        Path extracted = extracted();
        flipOneByte(extracted);

        assertThatThrownBy(() -> EmbeddedRedisServer.start(settings(), task -> new Thread(task).start()))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("Refusing to run the redis-server " + extracted)
                .hasMessageContaining("not the " + provenance().getProperty("sha256"))
                .hasMessageContaining("delete it");
        try (Stream<Path> runs = Files.list(workDir)) {
            assertThat(runs.map(p -> p.getFileName().toString())).noneMatch(name -> name.startsWith("run-"));
        }
    }

    @Test
    void aBinaryChangedInTheJarIsRefusedBeforeAnythingIsExtracted() throws Exception {
        Path jar = Files.createDirectories(workDir.resolve("jar").resolve(DIR));
        byte[] changed = resource(DIR + "redis-server");
        changed[changed.length / 2] ^= 1;
        Files.write(jar.resolve("redis-server"), changed);
        Files.write(jar.resolve(RedisBinary.PROVENANCE), resource(DIR + RedisBinary.PROVENANCE));
        Path run = Files.createDirectory(workDir.resolve("work"));

        try (URLClassLoader loader = new URLClassLoader(new URL[] {workDir.resolve("jar").toUri().toURL()}, null)) {
            assertThatThrownBy(() -> RedisBinary.select(Optional.empty(), run, loader, PLATFORM))
                    .hasMessageContaining("Refusing to run the redis-server " + jar.resolve("redis-server").toUri().toURL())
                    .hasMessageContaining("jar is damaged or was changed");
        }
        try (Stream<Path> files = Files.list(run)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void anOperatorsBinaryIsDescribedByItsVersionLine() throws Exception {
        Path own = RedisBinary.bundled(workDir);

        RedisBinary binary = RedisBinary.select(Optional.of(own), workDir);

        assertThat(binary.origin()).isEqualTo(RedisBinary.Origin.OPERATOR);
        assertThat(binary.path()).isEqualTo(own);
        assertThat(binary.description()).startsWith("the operator's own (Redis server v=7.0.15 sha=");
    }

    @Test
    void aPlatformWithoutAPatchedBuildGetsEmbeddedRedisBinaryVerifiedAndLabelledUnpatched() throws Exception {
        RedisBinary binary = RedisBinary.select(Optional.empty(), workDir, RedisBinary.class.getClassLoader(),
                "linux-386");

        assertThat(binary.origin()).isEqualTo(RedisBinary.Origin.UPSTREAM_7_0_15);
        assertThat(binary.description()).contains("7.0.15 upstream").contains("without the security fixes");
        assertThat(RedisBinary.sha256(binary.path()))
                .isEqualTo("19106984e15b7e7ce22c9a3296fe6a5f85c43a72894144f98b1fb572b823a936");
    }

    private Path extracted() throws IOException {
        try (Stream<Path> files = Files.list(workDir)) {
            return files.filter(f -> f.getFileName().toString().startsWith("redis-server-7.0.15-deb12u"))
                    .filter(f -> !f.getFileName().toString().endsWith(".partial"))
                    .findFirst().orElseThrow();
        }
    }

    private static void flipOneByte(final Path file) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            long middle = raf.length() / 2;
            raf.seek(middle);
            int b = raf.read();
            raf.seek(middle);
            raf.write(b ^ 1);
        }
    }

    private CacheSettings.Standalone settings() {
        return CacheSettings.load(ConfigLookup.of(Map.of(CacheSettings.WORK_DIR, workDir.toString()))).standalone();
    }

    private static Properties provenance() throws IOException {
        Properties values = new Properties();
        values.load(new InputStreamReader(new ByteArrayInputStream(resource(DIR + RedisBinary.PROVENANCE)),
                StandardCharsets.UTF_8));
        return values;
    }

    private static byte[] resource(final String name) throws IOException {
        try (InputStream in = RedisBinary.class.getClassLoader().getResourceAsStream(name)) {
            assertThat(in).as(name + " on the class path").isNotNull();
            return in.readAllBytes();
        }
    }
}
