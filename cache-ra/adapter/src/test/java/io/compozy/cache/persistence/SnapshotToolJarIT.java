package io.compozy.cache.persistence;

import static io.compozy.cache.persistence.Standalone.call;
import static io.compozy.cache.persistence.Standalone.connect;
import static org.assertj.core.api.Assertions.assertThat;

import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runnable jar the build makes holds everything the offline command needs, and runs on its own. */
class SnapshotToolJarIT {

    @TempDir
    Path root;

    @Test
    void theJarListsAndExportsAStoppedServersGenerations() throws Exception {
        CacheSettings.Standalone settings = Standalone.settings(root);
        try (SnapshotManager manager = SnapshotManager.open(settings.persistence());
             EmbeddedRedisServer server = manager.startServer(settings, Standalone.PUMP);
             ControlConnection redis = connect(server)) {
            call(redis, "SET", "greeting", "hello");
            manager.snapshot().orElseThrow();
        }
        Path jar = Path.of("target", "compozy-cache-snapshot-tool.jar");
        assertThat(jar).exists();
        String data = root.resolve("data").toString();

        Process list = run(jar, "list", "--data-dir", data);
        assertThat(list.exitValue()).isZero();
        assertThat(new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                .containsPattern("(?m)^\\s+1\\s");

        Path rdb = root.resolve("out.rdb");
        Process export = run(jar, "export", "--data-dir", data, "--out", rdb.toString());
        assertThat(export.exitValue()).as(new String(export.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                .isZero();
        assertThat(new String(Files.readAllBytes(rdb), 0, 5, StandardCharsets.US_ASCII)).isEqualTo("REDIS");
    }

    private static Process run(final Path jar, final String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return process;
    }
}
