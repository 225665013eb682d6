package io.compozy.cache.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PersistenceSettingsTest {

    private static final String KEY = Base64.getEncoder().encodeToString(new byte[32]);

    @TempDir
    Path dir;

    @Test
    void defaultsAreOffWithTheSpecsIntervalAndThreeGenerations() {
        PersistenceSettings settings = load(Map.of());
        assertThat(settings.enabled()).isFalse();
        assertThat(settings.snapshotInterval()).isEqualTo(Duration.ofMinutes(5));
        assertThat(settings.snapshotOnShutdown()).isTrue();
        assertThat(settings.restoreOnStartup()).isTrue();
        assertThat(settings.retain()).isEqualTo(3);
        assertThat(settings.encryptionKey()).isEmpty();
        assertThat(settings.aof()).isEqualTo(PersistenceSettings.AppendFsync.OFF);
    }

    @Test
    void theAppendOnlyFileLivesInDataDirAndOnlyWhilePersistenceIsOn() {
        PersistenceSettings on = load(Map.of(PersistenceSettings.ENABLED, "true",
                PersistenceSettings.DATA_DIR, dir.toString(), PersistenceSettings.AOF, "EverySec"));
        assertThat(on.aof()).isEqualTo(PersistenceSettings.AppendFsync.EVERYSEC);
        assertThat(on.appendOnlyHome()).contains(dir.resolve("redis"));
        assertThat(load(Map.of(PersistenceSettings.ENABLED, "true", PersistenceSettings.DATA_DIR, dir.toString(),
                PersistenceSettings.AOF, "always")).aof()).isEqualTo(PersistenceSettings.AppendFsync.ALWAYS);
        // Persistence off writes nothing to disk, whatever the AOF key says.
        PersistenceSettings off = load(Map.of(PersistenceSettings.AOF, "always"));
        assertThat(off.appendOnly()).isFalse();
        assertThat(off.appendOnlyHome()).isEmpty();
        assertInvalid(Map.of(PersistenceSettings.AOF, "yes"), PersistenceSettings.AOF);
    }

    @Test
    void anEncryptedStoreRefusesThePlaintextAppendOnlyFileNamingBothKeys() {
        assertThatThrownBy(() -> load(Map.of(PersistenceSettings.ENABLED, "true", PersistenceSettings.DATA_DIR,
                dir.toString(), PersistenceSettings.AOF, "everysec", PersistenceSettings.ENCRYPTION_KEY, KEY)))
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining(PersistenceSettings.AOF).hasMessageContaining(PersistenceSettings.ENCRYPTION_KEY)
                .hasMessageContaining("docs/security.md").message().doesNotContain(KEY);
        assertThat(load(Map.of(PersistenceSettings.ENABLED, "true", PersistenceSettings.DATA_DIR, dir.toString(),
                PersistenceSettings.AOF, "off", PersistenceSettings.ENCRYPTION_KEY, KEY)).keyBytes()).isPresent();
    }

    @Test
    void readsEveryKey() {
        PersistenceSettings settings = load(Map.of(PersistenceSettings.ENABLED, "TRUE",
                PersistenceSettings.DATA_DIR, dir.toString(), PersistenceSettings.SNAPSHOT_INTERVAL, "30s",
                PersistenceSettings.SNAPSHOT_ON_SHUTDOWN, "false", PersistenceSettings.RESTORE_ON_STARTUP, "false",
                PersistenceSettings.RETAIN, "1", PersistenceSettings.ENCRYPTION_KEY, KEY));
        assertThat(settings.enabled()).isTrue();
        assertThat(settings.dataDir()).contains(dir);
        assertThat(settings.snapshotInterval()).isEqualTo(Duration.ofSeconds(30));
        assertThat(settings.snapshotOnShutdown()).isFalse();
        assertThat(settings.restoreOnStartup()).isFalse();
        assertThat(settings.retain()).isEqualTo(1);
        assertThat(settings.keyBytes()).hasValueSatisfying(bytes -> assertThat(bytes).hasSize(32));
        assertThat(load(Map.of(PersistenceSettings.SNAPSHOT_INTERVAL, "PT2M")).snapshotInterval())
                .isEqualTo(Duration.ofMinutes(2));
    }

    @Test
    void invalidValuesNameTheirKey() {
        assertInvalid(Map.of(PersistenceSettings.ENABLED, "true"), PersistenceSettings.DATA_DIR);
        assertInvalid(Map.of(PersistenceSettings.SNAPSHOT_INTERVAL, "0s"), PersistenceSettings.SNAPSHOT_INTERVAL);
        assertInvalid(Map.of(PersistenceSettings.SNAPSHOT_INTERVAL, "-PT5M"), PersistenceSettings.SNAPSHOT_INTERVAL);
        assertInvalid(Map.of(PersistenceSettings.SNAPSHOT_INTERVAL, "often"), PersistenceSettings.SNAPSHOT_INTERVAL);
        assertInvalid(Map.of(PersistenceSettings.RETAIN, "0"), PersistenceSettings.RETAIN);
        assertInvalid(Map.of(PersistenceSettings.RETAIN, "many"), PersistenceSettings.RETAIN);
        assertInvalid(Map.of(PersistenceSettings.SNAPSHOT_ON_SHUTDOWN, "yes"), PersistenceSettings.SNAPSHOT_ON_SHUTDOWN);
        assertInvalid(Map.of(PersistenceSettings.SLOW_SNAPSHOT_THRESHOLD, "0s"), PersistenceSettings.SLOW_SNAPSHOT_THRESHOLD);
    }

    @Test
    void aKeyMayLiveInAFileAndABadKeyNeverAppearsInTheMessage() throws Exception {
        Path file = dir.resolve("key");
        Files.writeString(file, KEY + "\n");
        assertThat(load(Map.of(PersistenceSettings.ENCRYPTION_KEY, "file:" + file)).keyBytes()).isPresent();

        String shortKey = Base64.getEncoder().encodeToString("sixteen byte key".getBytes());
        assertThatThrownBy(() -> load(Map.of(PersistenceSettings.ENCRYPTION_KEY, shortKey)))
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining(PersistenceSettings.ENCRYPTION_KEY).hasMessageContaining("16 bytes, not 32")
                .message().doesNotContain(shortKey);
        assertThatThrownBy(() -> load(Map.of(PersistenceSettings.ENCRYPTION_KEY, "not base64 at all!")))
                .hasMessageContaining(PersistenceSettings.ENCRYPTION_KEY).message().doesNotContain("at all");
        assertThatThrownBy(() -> load(Map.of(PersistenceSettings.ENCRYPTION_KEY, "file:" + dir.resolve("missing"))))
                .hasMessageContaining(PersistenceSettings.ENCRYPTION_KEY).hasMessageContaining("cannot read the key file");
    }

    @Test
    void distributedModeDoesNotNeedADataDir() {
        Map<String, String> values = new HashMap<>(Map.of(PersistenceSettings.ENABLED, "true"));
        assertThat(PersistenceSettings.load(ConfigLookup.of(values), false).enabled()).isTrue();
        assertThat(CacheSettings.load(ConfigLookup.of(values)).standalone().persistence().dataDir()).isEmpty();
    }

    private static PersistenceSettings load(final Map<String, String> values) {
        return PersistenceSettings.load(ConfigLookup.of(values), true);
    }

    private static void assertInvalid(final Map<String, String> values, final String key) {
        assertThatThrownBy(() -> load(values)).isInstanceOf(InvalidConfigurationException.class)
                .hasMessageStartingWith("Invalid configuration '" + key + "'")
                .extracting(e -> ((InvalidConfigurationException) e).key()).isEqualTo(key);
    }
}
